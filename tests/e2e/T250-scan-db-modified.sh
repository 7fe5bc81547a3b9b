#!/bin/sh
# T250-scan-db-modified: notmuch 0.37 reports Xapian's "database modified"
# (a `notmuch new` committing while a scan reads) as an exception status, or
# as NULL from a message getter, on any read.  The scan then throws away
# what it read and reads everything again on a fresh open, a bounded
# number of times; past the bound it fails with a message saying what to
# do, and writes nothing half-read.  Xapian cannot be made to throw on
# demand, so BOUNCEWATCH_TEST_READ_FAILURES=N makes the first lookup of
# each of the first N opens fail as it would.  A real concurrent writer is
# exercised too: `notmuch new` while scans run, a few commits per scan.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" compromise "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
state="$XDG_DATA_HOME/bouncewatch/state.sqlite"
same() { bw_same_json "$1" "$2" "$3" revision; }

"$BW_BIN" scan --json --full >"$BW_TMP/good.json" || bw_expect_eq "clean scan" failed ok

# Three failed reads, then a good one: the answer is the clean one.
rm -f "$state"
rc=0
BOUNCEWATCH_TEST_READ_FAILURES=3 "$BW_BIN" scan --json >"$BW_TMP/retried.json" 2>"$BW_TMP/retried.err" || rc=$?
bw_expect_eq "retried: exit status" "$rc" 0
same "retried == clean" "$BW_TMP/retried.json" "$BW_TMP/good.json"

# Every read fails: exit 69 (unavailable), a message that says what to do,
# and no state saved from a half-read mailbox.
rm -f "$state"
rc=0
BOUNCEWATCH_TEST_READ_FAILURES=50 "$BW_BIN" scan --json >"$BW_TMP/failed.json" 2>"$BW_TMP/failed.err" || rc=$?
bw_expect_eq "always failing: exit status" "$rc" 69
grep -q "run the scan again" "$BW_TMP/failed.err" \
    || bw_expect_eq "always failing: message" "$(cat "$BW_TMP/failed.err")" "...run the scan again..."
n=$(python3 - "$state" <<'PY'
import sqlite3, sys
try:
    print(sqlite3.connect(sys.argv[1]).execute("select count(*) from items").fetchone()[0])
except Exception:
    print(0)
PY
)
bw_expect_eq "always failing: no items saved" "$n" 0
"$BW_BIN" scan --json >"$BW_TMP/after.json" || bw_expect_eq "scan after failures" failed ok
same "after failures == clean" "$BW_TMP/after.json" "$BW_TMP/good.json"

# notmuch 0.37's notmuch_messages_get() does not catch Xapian's "database
# modified" (it reads the document and catches only "not found"): the
# exception used to end the scan in std::terminate, an abort instead of a
# retry.  throwing-notmuch.so makes that call throw on demand.
bw_thrower_setup   # $thrower, $asan_opts (lib.sh)
# thrown VAR=VALUE... COMMAND...: COMMAND with the thrower preloaded
thrown() { env LD_PRELOAD="$thrower" ASAN_OPTIONS="$asan_opts" "$@"; }
# said NAME FILE PATTERN: a failure unless FILE holds PATTERN
said() {
    grep -q "$3" "$2" || bw_expect_eq "$1" "$(grep -v ld.so "$2")" "...$3..."
}
rm -f "$state"
rc=0
thrown BW_TEST_THROWS=2 "$BW_BIN" scan --json >"$BW_TMP/thrown.json" 2>"$BW_TMP/thrown.err" || rc=$?
bw_expect_eq "exception in notmuch: retried, exit status" "$rc" 0
same "exception in notmuch: retried == clean" "$BW_TMP/thrown.json" "$BW_TMP/good.json"
rm -f "$state"
rc=0
thrown BW_TEST_THROWS=1000000 "$BW_BIN" scan --json >/dev/null 2>"$BW_TMP/thrown.err" || rc=$?
bw_expect_eq "exception in notmuch every time: exit status" "$rc" 69
said "exception every time: message" "$BW_TMP/thrown.err" "run the scan again"
rc=0
thrown BW_TEST_THROWS=1000000 "$BW_BIN" hook post-new >/dev/null 2>"$BW_TMP/thrown-hook.err" || rc=$?
# The hook always exits 0 (notmuch new must not fail) and runs in a child
# that it watches: an abort shows as "stopped by signal", a handled failure
# as the scan's own message.
bw_expect_eq "exception in notmuch, hook: exit status" "$rc" 0
grep -q "stopped by signal" "$BW_TMP/thrown-hook.err" \
    && bw_expect_eq "exception in notmuch, hook: no abort" "$(cat "$BW_TMP/thrown-hook.err")" "(a handled failure)"
said "exception in notmuch, hook: says why" "$BW_TMP/thrown-hook.err" "mail database error"

# notmuch_message_thaw() writes the document outside notmuch's try (a full
# disk throws there): `scan --tag` fails with a message and changes no tag.
notmuch dump >"$BW_TMP/tags-before"
rc=0
thrown BW_TEST_THAW_THROWS=1 "$BW_BIN" scan --tag >/dev/null 2>"$BW_TMP/thaw.err" || rc=$?
bw_expect_eq "exception in thaw: exit status" "$rc" 69
said "exception in thaw: message" "$BW_TMP/thaw.err" "tagging .* failed"
notmuch dump >"$BW_TMP/tags-after"
cmp -s "$BW_TMP/tags-before" "$BW_TMP/tags-after" \
    || bw_expect_eq "exception in thaw: tags unchanged" "$(diff "$BW_TMP/tags-before" "$BW_TMP/tags-after" | head -5)" ""

# A real writer: copies of ordinary mail indexed by `notmuch new` while full
# scans run; every scan succeeds.  The writer is paced by the scans, not by
# the clock: while a scan runs, it runs `notmuch new` over one new message
# at a time (one Xapian commit each), at most four times per scan.  An
# attempt fails only on a commit made after its own open, and attempts
# follow one another, so four commits spoil at most four of the scan's ten
# attempts however slow the machine is.  (A writer in a free loop could
# commit during every attempt of a slow scan, sanitized and under load,
# and outran the retries: that is not what this checks.)
mkdir -p "$BW_TMP/mail/INBOX/new"
ham=$(grep -L -i "mailer-daemon\|postmaster\|delivery" "$BW_TMP"/mail/INBOX/cur/* | head -1)
k=0
while [ $k -lt 5 ]; do
    (
        n=0
        while [ $n -lt 4 ] && [ ! -e "$BW_TMP/ended$k" ]; do
            sed "s/^Message-ID: <\\(.*\\)>/Message-ID: <w$k.$n.\\1>/I" "$ham" >"$BW_TMP/mail/INBOX/new/w$k.$n"
            notmuch new --quiet --no-hooks 2>/dev/null
            n=$((n + 1))
        done
        echo $n >"$BW_TMP/written$k"
    ) &
    writer=$!
    rc=0
    BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json --full >/dev/null 2>"$BW_TMP/w$k.err" || rc=$?
    [ "$rc" = 0 ] || { echo "=== scan $k stderr:"; cat "$BW_TMP/w$k.err"; }
    touch "$BW_TMP/ended$k"
    wait "$writer"
    bw_expect_eq "scan $k during notmuch new: exit status" "$rc" 0
    k=$((k + 1))
done
# (for the log: how often an attempt met a commit and was read again)
echo "attempts read again during notmuch new: $(cat "$BW_TMP"/w?.err | grep -c 'timing: retry')"
echo "commits per scan: $(cat "$BW_TMP"/written? | tr "\n" " ")"
# every copy was indexed (the writer ran, not only the scans)
bw_expect_eq "the writer's messages indexed" "$(notmuch count path:INBOX/new)" \
    "$(cat "$BW_TMP"/written? | awk '{ n += $1 } END { print n }')"
bw_done
