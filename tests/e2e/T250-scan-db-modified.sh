#!/bin/sh
# T250-scan-db-modified: notmuch 0.37 reports Xapian's "database modified"
# (a `notmuch new` committing while a scan reads) as an exception status, or
# as NULL from a message getter, on any read.  The scan then throws away
# what it read and reads everything again on a fresh open, a bounded
# number of times; past the bound it fails with a message saying what to
# do, and writes nothing half-read.  Xapian cannot be made to throw on
# demand, so BOUNCEWATCH_TEST_READ_FAILURES=N makes the first lookup of
# each of the first N opens fail as it would.  A real concurrent writer is
# exercised too: `notmuch new` in a loop while scans run.
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

# A real writer: copies of ordinary mail indexed by `notmuch new` in a loop
# while full scans run; every scan succeeds.
mkdir -p "$BW_TMP/mail/INBOX/new"
ham=$(grep -L -i "mailer-daemon\|postmaster\|delivery" "$BW_TMP"/mail/INBOX/cur/* | head -1)
(
    i=0
    while [ $i -lt 40 ] && [ ! -e "$BW_TMP/stop" ]; do
        sed "s/^Message-ID: <\\(.*\\)>/Message-ID: <w$i.\\1>/I" "$ham" >"$BW_TMP/mail/INBOX/new/w$i"
        notmuch new --quiet --no-hooks 2>/dev/null
        i=$((i + 1))
    done
) &
writer=$!
k=0
while [ $k -lt 5 ]; do
    rc=0
    "$BW_BIN" scan --json --full >/dev/null 2>"$BW_TMP/w.err" || rc=$?
    bw_expect_eq "scan $k during notmuch new: exit status" "$rc" 0
    k=$((k + 1))
done
touch "$BW_TMP/stop"
wait "$writer"
bw_done
