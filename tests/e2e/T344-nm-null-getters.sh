#!/bin/sh
# T344-nm-null-getters: libnotmuch 0.37's message getters catch a Xapian
# error while they read the document, log it and answer NULL (-1 for
# notmuch_message_count_files); a header the message does not have is "",
# never NULL (lib/message.cc).  So a NULL is a failed read, like a failed
# query: the source records it (bw_nm_source_failed) and the scan reads
# everything again on a fresh open (T250).  The From header was taken for
# "not the owner's" instead (the candidates, the lastmod range, the
# signals' lists, the owner guess): the owner's own mail could then be read
# as received mail, with no retry and nothing said.
#
# throwing-notmuch.so makes one chosen call of a getter answer as notmuch
# does when Xapian throws (BW_TEST_NULL_GETTER/_SKIP/_TIMES).  For a spread
# of the calls a clean run makes (every 3rd to every 23rd; BW_T344_EVERY=1:
# every one, as was checked when this was written), the run reads again
# (BOUNCEWATCH_DEBUG_TIMING's "timing: retry") and its answer is the clean
# one.  A getter failing on every call: the scan fails with the message
# that says to run it again, and saves nothing.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
bw_thrower_setup   # $thrower, $asan_opts (lib.sh)
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
data="$XDG_DATA_HOME/bouncewatch"

# nulled WHAT SKIP TIMES COMMAND...: COMMAND with the thrower preloaded, the
# getter WHAT failing on TIMES calls after SKIP; its calls logged in
# $BW_TMP/calls ("real" or "null" a line), stderr in $BW_TMP/err, $rc.
nulled() {
    what=$1 skip=$2 times=$3
    shift 3
    rm -f "$BW_TMP/calls"
    rc=0
    env LD_PRELOAD="$thrower" ASAN_OPTIONS="$asan_opts" BW_TEST_NULL_GETTER="$what" \
        BW_TEST_NULL_SKIP="$skip" BW_TEST_NULL_TIMES="$times" BW_TEST_NULL_LOG="$BW_TMP/calls" \
        BOUNCEWATCH_DEBUG_TIMING=1 "$@" 2>"$BW_TMP/err" || rc=$?
    touch "$BW_TMP/calls"
}
# keep: the state now is the one the sweeps start from
keep() {
    rm -rf "$BW_TMP/saved"
    cp -a "$data" "$BW_TMP/saved"
}
# restore: the state as $BW_TMP/saved holds it (none when it holds none)
restore() {
    rm -rf "$data"
    if [ -d "$BW_TMP/saved" ]; then cp -a "$BW_TMP/saved" "$data"; fi
}
# sweep NAME WHAT STRIDE GOOD SCAN-ARGS...: for every STRIDE-th call of WHAT
# that a run makes, a run on the saved state with that call failing: it
# exits 0, reads again, and answers GOOD (but for the revision).  Returns
# how many calls were checked in $checked.
sweep() {
    name=$1 what=$2 stride=$3 good=$4
    shift 4
    [ -z "${BW_T344_EVERY:-}" ] || stride=1
    restore
    nulled "$what" 0 0 "$BW_BIN" scan --json "$@" >/dev/null
    n=$(grep -c real "$BW_TMP/calls")
    [ "$n" -gt 0 ] || bw_expect_eq "$name: the run calls $what" 0 "more"
    k=0 checked=0
    while [ "$k" -lt "$n" ]; do
        restore
        nulled "$what" "$k" 1 "$BW_BIN" scan --json "$@" >"$BW_TMP/got.json"
        bw_expect_eq "$name: call $k of $what failed: exit status" "$rc" 0
        bw_expect_eq "$name: call $k of $what failed: it failed" "$(grep -c null "$BW_TMP/calls")" 1
        bw_expect_eq "$name: call $k of $what failed: read again" \
            "$(grep -c 'timing: retry' "$BW_TMP/err")" 1
        cmp -s "$BW_TMP/got.json" "$good" ||   # (the same revision: nothing was written)
            bw_same_json "$name: call $k of $what failed: the clean answer" "$BW_TMP/got.json" "$good" revision
        k=$((k + stride))
        checked=$((checked + 1))
    done
}

# 1. The candidates of a full read, the lastmod range and the lists of an
# incremental one: half the mail first, then the rest.
python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" compromise "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
for d in "$BW_TMP"/mail/*/cur; do
    f=$(basename "$(dirname "$d")")
    mkdir -p "$BW_TMP/held/$f"
    ls "$d" | awk 'NR % 2 == 0' | while read -r x; do mv "$d/$x" "$BW_TMP/held/$f/"; done
done
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
"$BW_BIN" scan --json >"$BW_TMP/first.json" || bw_expect_eq "first scan" failed ok
sweep "first scan" from 3 "$BW_TMP/first.json"
restore
"$BW_BIN" scan --json >/dev/null || bw_expect_eq "first scan again" failed ok
keep
for f in "$BW_TMP"/held/*; do mv "$f"/* "$BW_TMP/mail/$(basename "$f")/cur/"; done
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/second.json" || bw_expect_eq "second scan" failed ok
sweep "incremental scan" from 3 "$BW_TMP/second.json"
sweep "incremental scan" notmuch_message_count_files 4 "$BW_TMP/second.json"
# the listing of every Message-ID through libnotmuch (its value slot)
restore
"$BW_BIN" scan --json >/dev/null || bw_expect_eq "second scan again" failed ok
keep
export BOUNCEWATCH_TEST_XAPIAN=off
"$BW_BIN" scan --json --full >"$BW_TMP/third.json" || bw_expect_eq "full scan" failed ok
sweep "full scan, no Xapian handle" message-id 5 "$BW_TMP/third.json" --full
unset BOUNCEWATCH_TEST_XAPIAN

# Every call of From fails: no answer, the message that says what to do,
# nothing saved.
rm -rf "$BW_TMP/saved"
restore
nulled from 0 -1 "$BW_BIN" scan --json >/dev/null
bw_expect_eq "From always failing: exit status" "$rc" 69
grep -q "run the scan again" "$BW_TMP/err" \
    || bw_expect_eq "From always failing: message" "$(cat "$BW_TMP/err")" "...run the scan again..."
n=$(python3 - "$data/state.sqlite" <<'PY'
import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("select count(*) from items").fetchone()[0])
except Exception:
    print(0)
PY
)
bw_expect_eq "From always failing: no items saved" "$n" 0

# 2. The owner guess reads the From of the newest sent mail: one failed
# read, and it offers no address (a guess from part of the sample is no
# guess); the scan still says what is missing.
notmuch config set user.primary_email ""
rc=0
"$BW_BIN" scan >/dev/null 2>"$BW_TMP/err" || rc=$?
bw_expect_eq "owner unset: exit status" "$rc" 78
grep -q "Your sent mail is from owner@example.org" "$BW_TMP/err" \
    || bw_expect_eq "owner unset: the guess" "$(cat "$BW_TMP/err")" "...Your sent mail is from owner@example.org..."
# (This run ends by exit() after a regex query (the Sent folders), whose
# regcomp() notmuch never frees: .ci/lsan.supp names it, but under the
# preload llvm-symbolizer cannot start (it inherits the instrumented
# library), so in a sanitizer build nothing matches the suppression.  Leaks
# are checked on this path by the run without the preload above.)
asan_all=$asan_opts
asan_opts="$asan_opts:detect_leaks=0"
nulled from 0 1 "$BW_BIN" scan >/dev/null
asan_opts=$asan_all
bw_expect_eq "owner guess, a failed read: exit status" "$rc" 78
bw_expect_eq "owner guess, a failed read: it failed" "$(grep -c null "$BW_TMP/calls")" 1
grep -q "user.primary_email is empty" "$BW_TMP/err" \
    || bw_expect_eq "owner guess, a failed read: says what is missing" "$(cat "$BW_TMP/err")" "...is empty..."
if grep -q "Your sent mail is from" "$BW_TMP/err"; then
    bw_expect_eq "owner guess, a failed read: no guess" "$(cat "$BW_TMP/err")" "(no address offered)"
fi
notmuch config set user.primary_email owner@example.org

# 3. The signals: the threads of a run (thread ids), the owner's mail and
# the received mail listed apart (From), in a quiet takeover.
rm -rf "$BW_TMP/mail" "$data" "$BW_TMP/saved"
MAKE="$BW_SRCDIR/tests/fixtures/make-takeover-mailbox.py"
eval "$(python3 "$MAKE" x --print-times)"   # before, hijack_end, now
export BOUNCEWATCH_NOW="$now"
python3 "$MAKE" "$BW_TMP/mail"
bw_notmuch_setup "$BW_TMP/mail" jonas.weber@mailhost.example
"$BW_BIN" scan --json >"$BW_TMP/takeover.json" || bw_expect_eq "takeover scan" failed ok
sweep "takeover" notmuch_message_get_thread_id 4 "$BW_TMP/takeover.json"
# (From: several hundred calls, every 23rd)
sweep "takeover" from 23 "$BW_TMP/takeover.json"
[ "$checked" -ge 10 ] || bw_expect_eq "takeover: From calls checked" "$checked" "10 or more"
bw_done
