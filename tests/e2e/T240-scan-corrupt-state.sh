#!/bin/sh
# T240-scan-corrupt-state: a damaged state file is moved aside with a clear
# one-line message and rebuilt from the mail: the answer is the same.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" compromise "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
state="$XDG_DATA_HOME/bouncewatch/state.sqlite"

"$BW_BIN" scan --json >"$BW_TMP/good.json" || bw_expect_eq "first scan" failed ok
same() { bw_same_json "$1" "$2" "$3"; }  # revision included: damage must change nothing

for damage in garbage scribble; do
    case $damage in
    garbage) printf 'not a database at all\n' >"$state"; rm -f "$state-wal" "$state-shm" ;;
    scribble)  # keep the SQLite header, overwrite the pages behind it
        python3 - "$state" <<'PY'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
for i in range(100, len(data)):
    data[i] = 0x5A
open(p, "wb").write(bytes(data))
PY
        rm -f "$state-wal" "$state-shm" ;;
    esac
    rc=0
    "$BW_BIN" scan --json >"$BW_TMP/$damage.json" 2>"$BW_TMP/$damage.err" || rc=$?
    bw_expect_eq "$damage: exit status" "$rc" 0
    lines=$(wc -l <"$BW_TMP/$damage.err")
    bw_expect_eq "$damage: one line on stderr" "$lines" 1
    grep -q "damaged" "$BW_TMP/$damage.err" || bw_expect_eq "$damage: message" "$(cat "$BW_TMP/$damage.err")" "...damaged..."
    same "$damage: same answer after the rebuild" "$BW_TMP/$damage.json" "$BW_TMP/good.json"
    ls "$XDG_DATA_HOME/bouncewatch/" | grep -q "state.sqlite.corrupt-" || bw_expect_eq "$damage: kept aside" no yes
    # And the rebuilt state serves the next run quietly.
    "$BW_BIN" scan --json >"$BW_TMP/next.json" 2>"$BW_TMP/next.err" || bw_expect_eq "$damage: next run" failed ok
    bw_expect_eq "$damage: next run is quiet" "$(cat "$BW_TMP/next.err")" ""
    rm -f "$XDG_DATA_HOME"/bouncewatch/state.sqlite.corrupt-*
done

# A damaged binary row (items.bin, what an incremental run loads instead
# of the row's JSON): its hash refuses it, the JSON is read, the answer is
# the same and nothing is said.  (New mail makes the run load the items.)
"$BW_BIN" scan --json >/dev/null 2>&1 || bw_expect_eq "scan before the damaged row" failed ok
python3 - "$state" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT message_id, bin FROM items WHERE bin IS NOT NULL").fetchall()
assert rows, "no binary rows"
for mid, blob in rows:
    b = bytearray(blob)
    b[len(b) // 2] ^= 0x41
    db.execute("UPDATE items SET bin=? WHERE message_id=?", (bytes(b), mid))
db.commit()
PY
printf 'From: A Friend <friend@example.net>\nTo: owner@example.org\nSubject: hi\nMessage-ID: <bin-damage-1@example.net>\nDate: Thu, 19 Nov 2026 10:00:00 +0000\n\nHi.\n' \
    >"$BW_TMP/mail/INBOX/cur/bin-damage-1:2,S"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/bin.json" 2>"$BW_TMP/bin.err" || bw_expect_eq "scan over damaged binary rows" failed ok
bw_expect_eq "damaged binary rows: nothing said" "$(cat "$BW_TMP/bin.err")" ""
"$BW_BIN" scan --json --full >"$BW_TMP/bin-full.json" 2>/dev/null || bw_expect_eq "full scan" failed ok
bw_same_json "damaged binary rows: same answer as a full scan" "$BW_TMP/bin.json" "$BW_TMP/bin-full.json" revision

# A damaged copy of the answers about the sent mail (snapshot row 1, what
# an incremental run imports instead of asking notmuch): its hash refuses
# it, the questions are asked again, the answer is the same, nothing is
# said, and the answers are written again whole.
python3 - "$state" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT data FROM snapshot WHERE id=1").fetchone()
assert row and len(row[0]) > 48, "no stored answers"
b = bytearray(row[0])
b[len(b) - 9] ^= 0x01            # a date or a flag of the last entry
db.execute("UPDATE snapshot SET data=? WHERE id=1", (bytes(b),))
db.commit()
open(sys.argv[1] + ".answers", "wb").write(bytes(b))
PY
printf 'From: A Friend <friend@example.net>\nTo: owner@example.org\nSubject: again\nMessage-ID: <answers-damage-1@example.net>\nDate: Thu, 19 Nov 2026 11:00:00 +0000\n\nHi.\n' \
    >"$BW_TMP/mail/INBOX/cur/answers-damage-1:2,S"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/ans.json" 2>"$BW_TMP/ans.err" || bw_expect_eq "scan over damaged answers" failed ok
bw_expect_eq "damaged answers: nothing said" "$(cat "$BW_TMP/ans.err")" ""
python3 - "$state" <<'PY' || bw_expect_eq "damaged answers: written again" kept rewritten
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
now = db.execute("SELECT data FROM snapshot WHERE id=1").fetchone()[0]
sys.exit(0 if now != open(sys.argv[1] + ".answers", "rb").read() else 1)
PY
rm -f "$state.answers"
"$BW_BIN" scan --json --full >"$BW_TMP/ans-full.json" 2>/dev/null || bw_expect_eq "full scan" failed ok
bw_same_json "damaged answers: same answer as a full scan" "$BW_TMP/ans.json" "$BW_TMP/ans-full.json" revision

# A damaged entry of the snapshot (snap_items: what a run with nothing new
# answers from instead of loading the items, one row per item with its own
# sum).  A save reads no entry, so the damage shows to the first run that
# reads them (here one at another "now": the same "now" is served from the
# kept document): the store refuses the entry and drops it, the items are
# read, nothing is said, the answer is a full scan's; the next save writes
# the entry again from its item, and a run from the snapshot then answers
# as a full scan.
later=2026-11-21T09:30:00+00:00
python3 - "$state" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT message_id, data FROM snap_items ORDER BY date, message_id").fetchall()
assert rows, "no snapshot entries"
assert db.execute("SELECT count(*) FROM items").fetchone()[0] == len(rows), "not an entry per item"
mid, data = rows[len(rows) // 2]
b = bytearray(data)
b[len(b) // 2] ^= 0x20
db.execute("UPDATE snap_items SET data=? WHERE message_id=?", (bytes(b), mid))
db.commit()
open(sys.argv[1] + ".part", "wb").write(bytes(b))
open(sys.argv[1] + ".part-id", "w").write(mid)
PY
cp -r "$XDG_DATA_HOME" "$BW_TMP/data-copy"
XDG_DATA_HOME="$BW_TMP/data-copy" BOUNCEWATCH_NOW=$later "$BW_BIN" scan --json --full >"$BW_TMP/part-ref.json" 2>/dev/null \
    || bw_expect_eq "full scan (copy)" failed ok
BOUNCEWATCH_NOW=$later BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/part.json" 2>"$BW_TMP/part.err" \
    || bw_expect_eq "scan over a damaged snapshot entry" failed ok
bw_expect_eq "damaged snapshot entry: nothing said" "$(grep -v 'timing:' "$BW_TMP/part.err")" ""
grep -q "timing: snapshot" "$BW_TMP/part.err" && bw_expect_eq "damaged snapshot entry: not served from the snapshot" served refused
bw_same_json "damaged snapshot entry: same answer as a full scan" "$BW_TMP/part.json" "$BW_TMP/part-ref.json" revision
python3 - "$state" <<'PY' || bw_expect_eq "damaged snapshot entry: dropped" kept dropped
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
mid = open(sys.argv[1] + ".part-id").read()
sys.exit(0 if db.execute("SELECT count(*) FROM snap_items WHERE message_id=?", (mid,)).fetchone()[0] == 0 else 1)
PY
printf 'From: A Friend <friend@example.net>\nTo: owner@example.org\nSubject: once more\nMessage-ID: <part-damage-1@example.net>\nDate: Thu, 19 Nov 2026 12:00:00 +0000\n\nHi.\n' \
    >"$BW_TMP/mail/INBOX/cur/part-damage-1:2,S"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/part2.json" 2>"$BW_TMP/part2.err" || bw_expect_eq "scan after a damaged snapshot entry" failed ok
bw_expect_eq "damaged snapshot entry, new mail: nothing said" "$(cat "$BW_TMP/part2.err")" ""
python3 - "$state" <<'PY' || bw_expect_eq "damaged snapshot entry: written again" kept rewritten
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
bad = open(sys.argv[1] + ".part", "rb").read()
mid = open(sys.argv[1] + ".part-id").read()
now = db.execute("SELECT data FROM snap_items WHERE message_id=?", (mid,)).fetchone()
n = db.execute("SELECT count(*) FROM snap_items").fetchone()[0]
sys.exit(0 if now is not None and now[0] != bad and
         n == db.execute("SELECT count(*) FROM items").fetchone()[0] else 1)
PY
rm -f "$state.part" "$state.part-id"
BOUNCEWATCH_NOW=$later BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/part3.json" 2>"$BW_TMP/part3.err" \
    || bw_expect_eq "scan from the snapshot written again" failed ok
grep -q "timing: snapshot" "$BW_TMP/part3.err" || bw_expect_eq "entry written again: served from the snapshot" no yes
"$BW_BIN" scan --json --full >"$BW_TMP/part-full.json" 2>/dev/null || bw_expect_eq "full scan" failed ok
bw_same_json "damaged snapshot entry, new mail: same answer as a full scan" "$BW_TMP/part2.json" "$BW_TMP/part-full.json" revision
BOUNCEWATCH_NOW=$later "$BW_BIN" scan --json --full >"$BW_TMP/part3-full.json" 2>/dev/null || bw_expect_eq "full scan" failed ok
bw_same_json "snapshot written again: same answer as a full scan" "$BW_TMP/part3.json" "$BW_TMP/part3-full.json" revision

# Damaged three times in a row, within a second or two: every damaged file
# is kept, none replaces another (the backup name had seconds only).
for round in 1 2 3; do
    printf 'damaged state, round %s\n' "$round" >"$state"; rm -f "$state-wal" "$state-shm"
    "$BW_BIN" scan --json >/dev/null 2>&1 || bw_expect_eq "round $round: exit status" failed ok
done
kept=$(cat "$XDG_DATA_HOME"/bouncewatch/state.sqlite.corrupt-* 2>/dev/null | sort | tr '\n' ' ')
bw_expect_eq "three damaged files, three backups" "$kept" \
    "damaged state, round 1 damaged state, round 2 damaged state, round 3 "
bw_done
