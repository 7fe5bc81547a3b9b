# lib.sh: helpers for the end-to-end tests (tests/e2e/T<ddd>-<topic>.sh).
# Source it first:   . "$BW_SRCDIR/tests/e2e/lib.sh"
#
# make check exports BW_BIN (the built program), BW_SRCDIR and BW_BUILDDIR.
# Exit statuses follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.
# After notmuch's test/test-lib-common.sh: every test gets its own temporary
# HOME and a generated NOTMUCH_CONFIG, so nothing of the user's is touched.

BW_SRCDIR=${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BW_BUILDDIR=${BW_BUILDDIR:-$BW_SRCDIR}
BW_BIN=${BW_BIN:-$BW_BUILDDIR/bouncewatch}
export BW_SRCDIR BW_BUILDDIR BW_BIN

bw_fail_count=0

# bw_skip REASON: skip the whole test.
bw_skip() {
    echo "SKIP: $*"
    exit 77
}

# bw_require_bin: skip unless the program is built.
bw_require_bin() {
    [ -x "$BW_BIN" ] || bw_skip "bouncewatch not built ($BW_BIN)"
}

# bw_require_cmd CMD...: skip unless every command exists.
bw_require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || bw_skip "$c not found"
    done
}

# bw_require_dbusmock: skip unless a python3 with dbusmock and dbus-python
# is there (the mock notification server); exports it as $PY.
bw_require_dbusmock() {
    local p
    PY=
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import dbusmock, dbus' 2>/dev/null; then PY=$p; break; fi
    done
    [ -n "$PY" ] || bw_skip "python3-dbusmock not installed"
    export PY
}

# bw_tmpdir: create $BW_TMP (removed at exit) with a private HOME and
# XDG directories inside it; sets BOUNCEWATCH_NOW when not set, so that
# every run of a test sees the same "now".
# bw_notify_mock [CAPABILITIES]: after bw_tmpdir, on a private session bus
# (dbus-run-session): a notification server (python3-dbusmock's
# notification_daemon, default capabilities "body body-markup") that the
# exit trap stops; MOCK is the helper script that reads its calls.  Skips
# when it does not start.
bw_notify_mock() {
    MOCK="$BW_SRCDIR/tests/e2e/notify-mock.py"
    "$PY" -m dbusmock --template notification_daemon \
        -p "{\"capabilities\": \"${1:-body body-markup}\"}" >"$BW_TMP/mock.log" 2>&1 &
    BW_MOCK_PID=$!
    # shellcheck disable=SC2064 # expand now: the pid and path are fixed
    trap "kill $BW_MOCK_PID 2>/dev/null; rm -rf '$BW_TMP'" EXIT
    "$PY" "$MOCK" wait-name org.freedesktop.Notifications 10 || bw_skip "mock server did not start"
}

bw_tmpdir() {
    BW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bw-e2e.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the path is fixed
    trap "rm -rf '$BW_TMP'" EXIT
    export HOME="$BW_TMP/home"
    export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" \
           XDG_CACHE_HOME="$HOME/.cache" XDG_STATE_HOME="$HOME/.local/state"
    mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
    unset NOTMUCH_PROFILE NOTMUCH_DATABASE
    export BOUNCEWATCH_NOW=${BOUNCEWATCH_NOW:-2026-11-20T14:00:00+00:00}
}

# bw_notmuch_setup MAILDIR PRIMARY [OTHER...]: write a notmuch config for
# MAILDIR (created if needed) with the owner's addresses, export
# NOTMUCH_CONFIG, and index the mail (`notmuch new`, no hooks).
bw_notmuch_setup() {
    local maildir=$1 primary=$2
    shift 2
    local others=""
    if [ $# -gt 0 ]; then others=$(IFS=';'; echo "$*"); fi
    bw_require_cmd notmuch
    mkdir -p "$maildir/cur" "$maildir/new" "$maildir/tmp"
    export NOTMUCH_CONFIG="$BW_TMP/notmuch-config"
    cat >"$NOTMUCH_CONFIG" <<EOF
[database]
path=$maildir
[user]
name=Test Owner
primary_email=$primary
other_email=$others
[new]
tags=unread;inbox;
ignore=
[search]
exclude_tags=deleted;spam;
[maildir]
synchronize_flags=true
EOF
    notmuch new --no-hooks --quiet
}

# bw_json_canon FILE: JSON (or JSON Lines) with sorted keys, one document
# per line, for comparisons that ignore key order and spacing.
bw_json_canon() {
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if line:
        print(json.dumps(json.loads(line), sort_keys=True))
' "$1"
}

# bw_expect_eq NAME GOT WANT: record a failure when two strings differ.
bw_expect_eq() {
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1"
        echo "  got:  $2"
        echo "  want: $3"
        bw_fail_count=$((bw_fail_count + 1))
    fi
}

# bw_same_json NAME A B [KEY...]: record a failure when two JSON documents
# differ, the top-level KEYs left out (e.g. "revision", which moves with
# every write to the database, our own tags included); names the keys
# that differ.
bw_same_json() {
    local name=$1 a=$2 b=$3
    shift 3
    python3 - "$a" "$b" "$@" <<'PY' || bw_expect_eq "$name" differs identical
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    for k in sys.argv[3:]:
        d.pop(k, None)
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("  differs: %s" % k)
    sys.exit(1)
PY
}

# bw_full_rescan NAME: `scan --json --full` on a copy of the state (the
# incremental state is left as it is: campaign ids follow the history,
# T210) into $BW_TMP/NAME-full.json; a failure is recorded.
bw_full_rescan() {
    rm -rf "$BW_TMP/full-data"
    cp -a "$XDG_DATA_HOME" "$BW_TMP/full-data"
    XDG_DATA_HOME="$BW_TMP/full-data" "$BW_BIN" scan --json --full >"$BW_TMP/$1-full.json" \
        || bw_expect_eq "$1: full scan" failed ok
}

# bw_bulk_notes DIR HELD TOTAL KEEP: TOTAL ordinary one-line notes to the
# owner (owner@example.org), the first KEEP in maildir folder DIR, the rest
# in HELD (to be moved in later); Message-IDs <bulk-N@example.net>.
bw_bulk_notes() {
    python3 - "$@" <<'PY'
import os, sys
folder, held, total, keep = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(total):
    d = folder if i < keep else held
    with open(os.path.join(d, "bulk-%03d:2," % i), "w") as f:
        f.write("From: Pal %d <pal%d@example.net>\nTo: owner@example.org\n"
                "Subject: Note %d\nDate: Mon, 16 Nov 2026 10:%02d:00 +0000\n"
                "Message-ID: <bulk-%d@example.net>\n\nSee you.\n" % (i, i % 7, i, i % 60, i))
PY
}

# bw_expect_ok NAME COMMAND...: record a failure when COMMAND fails.
bw_expect_ok() {
    local name=$1
    shift
    local rc=0
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: $name (exit $rc)"
        bw_fail_count=$((bw_fail_count + 1))
    fi
}

# bw_thrower_setup: $thrower (tests/tools' throwing-notmuch.so; the test
# fails when it was not built) and $asan_opts, the ASAN_OPTIONS for a
# program run with it preloaded: an ASan build's runtime is in the program,
# so it cannot come first, and the link-order check is off.
bw_thrower_setup() {
    thrower="$BW_BUILDDIR/tests/tools/.libs/throwing-notmuch.so"
    [ -f "$thrower" ] || bw_expect_eq "test library built" missing "$thrower"
    asan_opts="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

# bw_done: exit with the test's verdict.
# bw_hook LOG: `hook post-new` as notmuch runs it, without a session bus
# (the alert is logged), its standard error in LOG; $rc is its exit status.
bw_hook() {
    rc=0
    mkdir -p "$BW_TMP/no-runtime"
    env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY XDG_RUNTIME_DIR="$BW_TMP/no-runtime" \
        "$BW_BIN" hook post-new >/dev/null 2>"$1" || rc=$?
}

# bw_count FILE PATTERN: how many lines of FILE match PATTERN; 0 while the
# file is not there (a log a background process has not opened yet: grep
# printed nothing, and a wait loop's `[ "" -lt N ]` ended it at once).
bw_count() {
    if [ -e "$1" ]; then grep -c -- "$2" "$1" || true; else echo 0; fi
}

# bw_poison_read LOG: how many different poison-* files the test build of
# the reader read (BW_TEST_READER_TRACE; one may be read twice: in a batch,
# then alone to be sure it is the one).
bw_poison_read() { grep -o -- 'bw-test-trace: reading .*poison-[a-z-]*' "$1" | sort -u | wc -l; }

bw_done() {
    if [ "$bw_fail_count" -ne 0 ]; then
        echo "$bw_fail_count check(s) failed"
        exit 1
    fi
    exit 0
}

# Mail clients under tmux: press the keys a user presses, read the screen.
# bw_tmux_start NAME COMMAND: run COMMAND in a detached tmux server of its
# own (160x40 cells); the server is killed at exit (with $BW_TMP).
bw_tmux_start() {
    BW_TMUX="bw-$1-$$"
    tmux -L "$BW_TMUX" new-session -d -x 160 -y 40 "$2"
    # shellcheck disable=SC2064 # expand now: fixed names
    trap "tmux -L '$BW_TMUX' kill-server 2>/dev/null; rm -rf '$BW_TMP'" EXIT
}

# bw_tmux_screen: print what the screen shows now.
bw_tmux_screen() {
    tmux -L "$BW_TMUX" capture-pane -p 2>/dev/null || true
}

# bw_tmux_keys KEY...: press keys (tmux send-keys names: M-b, Enter, q...).
bw_tmux_keys() {
    tmux -L "$BW_TMUX" send-keys "$@"
}

# bw_tmux_wait TEXT [SECONDS]: wait until the screen shows TEXT (a fixed
# string; default 15 s: clients load in the background on a busy machine).
# Leaves the screen in $BW_SCREEN; returns 1 on timeout.
bw_tmux_wait() {
    local limit=$(( ${2:-15} * 5 )) i=0
    while [ $i -lt "$limit" ]; do
        BW_SCREEN=$(bw_tmux_screen)
        case $BW_SCREEN in *"$1"*) return 0 ;; esac
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# bw_tmux_expect NAME TEXT [SECONDS]: like bw_tmux_wait, recording a failure
# (with the screen) on timeout.
bw_tmux_expect() {
    if ! bw_tmux_wait "$2" "${3:-15}"; then
        echo "FAIL: $1: the screen never showed \"$2\"; it shows:"
        printf '%s\n' "$BW_SCREEN" | sed 's/^/  | /'
        bw_fail_count=$((bw_fail_count + 1))
        return 1
    fi
}

# bw_ja_setup: make the program speak Japanese from the source tree's
# po/ja.po (compiled here, as BOUNCEWATCH_LOCALEDIR) and a ja_JP.UTF-8
# locale (built here with localedef when the system has none).  Returns 1
# when that cannot be done; then run with: LC_ALL=ja_JP.UTF-8 LANGUAGE=ja.
bw_ja_setup() {
    command -v msgfmt >/dev/null 2>&1 || return 1
    mkdir -p "$BW_TMP/locale/ja/LC_MESSAGES"
    msgfmt -o "$BW_TMP/locale/ja/LC_MESSAGES/bouncewatch.mo" "$BW_SRCDIR/po/ja.po" || return 1
    export BOUNCEWATCH_LOCALEDIR="$BW_TMP/locale"
    if locale -a 2>/dev/null | grep -qi '^ja_JP.utf-\?8$'; then return 0; fi
    command -v localedef >/dev/null 2>&1 && [ -e /usr/share/i18n/locales/ja_JP ] || return 1
    mkdir -p "$BW_TMP/locpath"
    localedef -i ja_JP -f UTF-8 "$BW_TMP/locpath/ja_JP.UTF-8" >/dev/null 2>&1 || return 1
    export LOCPATH="$BW_TMP/locpath"
}
