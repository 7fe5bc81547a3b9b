#!/bin/sh
# T104-watch-upgrade: bouncewatch is upgraded while the agent runs.  The
# agent notices that its program or engine module was replaced and starts
# again as the new program, in the same process, and takes its bus name
# again (an old agent next to a new post-new hook made both rescan the whole
# mailbox after every `notmuch new`: each rescans a state another version
# wrote).  A file that is still changing (modified just now, or in the
# future) is not used yet, and a file that cannot be executed leaves the old
# agent running, said once.  An upgrade that only points the name the agent
# was started by at a new program is one too.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch dbus-run-session
bw_require_dbusmock
if [ "${1:-}" != "--inner" ]; then
    rc=0
    dbus-run-session -- sh "$0" --inner || rc=$?
    exit $rc
fi
bw_tmpdir
engine="$(dirname "$BW_BIN")/.libs/bouncewatch-engine.so"
[ -f "$engine" ] || bw_skip "no engine module next to $BW_BIN"

# An installed copy of the program, to be upgraded in place.
prog="$BW_TMP/prog"
mkdir -p "$prog/.libs"
cp "$BW_BIN" "$prog/bouncewatch"
cp "$(dirname "$BW_BIN")"/.libs/bouncewatch-*.so "$prog/.libs/"
python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" calm "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

# install SRC DEST AGE: what a package manager does (a new file renamed over
# the old one), the new file's mtime AGE ago ("-1 minute", "+1 hour")
install_as() {
    cp "$1" "$2.new" && touch -d "$3" "$2.new" && mv -f "$2.new" "$2"
}
# wait_for PATTERN N: until the log has N lines matching PATTERN (30 s at most)
wait_for() {
    i=0
    while [ "$(bw_count "$BW_TMP/watch.err" "$1")" -lt "$2" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    bw_expect_eq "log: $2 x '$1'" "$(bw_count "$BW_TMP/watch.err" "$1")" "$2"
}
pid_of_owner() {
    "$PY" -c '
import dbus
b = dbus.SessionBus()
d = dbus.Interface(b.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus"), "org.freedesktop.DBus")
print(d.GetConnectionUnixProcessID("org.bouncewatch.Agent"))' 2>/dev/null || echo none
}

# (started by a name that is a link to the program, as a profile's bin/ is)
mkdir -p "$BW_TMP/bin"
ln -s "$prog/bouncewatch" "$BW_TMP/bin/bouncewatch"
"$BW_TMP/bin/bouncewatch" watch --poll 1 --debounce 100 --verbose >/dev/null 2>"$BW_TMP/watch.err" &
agent=$!
wait_for "cycle 2:" 1
bw_expect_eq "the agent owns its name" "$(pid_of_owner)" "$agent"

# Replaced by a file modified in the future: not settled, not used.
install_as "$engine" "$prog/.libs/bouncewatch-engine.so" "+1 hour"
n=$(bw_count "$BW_TMP/watch.err" "cycle [0-9]*:")
wait_for "cycle [0-9]*:" $((n + 2))
bw_expect_eq "a file still changing is not used" "$(bw_count "$BW_TMP/watch.err" "was replaced")" 0

# Replaced by a file that cannot be executed: the old agent goes on, says so
# once, and has its name back.
printf 'not a program\n' >"$BW_TMP/broken"
install_as "$BW_TMP/broken" "$prog/bouncewatch" "-1 minute"
wait_for "cannot start the new program" 1
n=$(bw_count "$BW_TMP/watch.err" "cycle [0-9]*:")
wait_for "cycle [0-9]*:" $((n + 2))
bw_expect_eq "the failed restart is said once" "$(bw_count "$BW_TMP/watch.err" "cannot start the new program")" 1
bw_expect_eq "after a failed restart the agent still runs" "$(kill -0 "$agent" 2>/dev/null && echo yes)" yes
i=0
while [ "$(pid_of_owner)" != "$agent" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
bw_expect_eq "after a failed restart the agent owns its name again" "$(pid_of_owner)" "$agent"

# The real upgrade: program and module replaced, settled.  The same process
# starts again as the new program (its counts start again) and owns the name.
# (the agent is stopped meanwhile: it must not start between the two files)
kill -STOP "$agent"
install_as "$BW_BIN" "$prog/bouncewatch" "-1 minute"
install_as "$engine" "$prog/.libs/bouncewatch-engine.so" "-1 minute"
kill -CONT "$agent"
wait_for "starting the new program" 2
wait_for "cycle 1:" 2
bw_expect_eq "the new program runs in the same process" "$(kill -0 "$agent" 2>/dev/null && echo yes)" yes
i=0
while [ "$(pid_of_owner)" != "$agent" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
bw_expect_eq "the new program owns the name" "$(pid_of_owner)" "$agent"
n=$(bw_count "$BW_TMP/watch.err" "cycle [0-9]*:")
wait_for "cycle [0-9]*:" $((n + 2))
bw_expect_eq "it starts again once" "$(bw_count "$BW_TMP/watch.err" "cycle 1:")" 2

# An upgrade that installs the new program elsewhere and only points the
# name the agent was started by at it (Nix or Guix profiles).
prog2="$BW_TMP/prog2"
mkdir -p "$prog2/.libs"
cp "$BW_BIN" "$prog2/bouncewatch"
cp "$(dirname "$BW_BIN")"/.libs/bouncewatch-*.so "$prog2/.libs/"
touch -d "-1 minute" "$prog2/bouncewatch" "$prog2"/.libs/*
ln -sfn "$prog2/bouncewatch" "$BW_TMP/bin/bouncewatch"
wait_for "starting the new program" 3
wait_for "cycle 1:" 3
bw_expect_eq "after the link moved, the same process runs the program it leads to" \
    "$(readlink "/proc/$agent/exe")" "$prog2/bouncewatch"

kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
bw_expect_eq "the agent stops on SIGTERM" "$rc" 0
! grep -qE "CRITICAL|WARNING" "$BW_TMP/watch.err" \
    || bw_expect_eq "no warning" "$(grep -m1 -E 'CRITICAL|WARNING' "$BW_TMP/watch.err")" none
bw_done
