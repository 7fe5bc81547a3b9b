#!/bin/sh
# T345-scan-snapshot-one-save: a run with nothing new answers from the
# snapshot (the sent row, one entry per item, the item count) as one save
# left it, even when another run commits between its reads.  The run stops
# between its first read and the others (BOUNCEWATCH_TEST_SNAPSHOT_GATE);
# meanwhile a report leaves the items and the entries in one transaction, as
# a save that removed it would leave them (the count still agrees with the
# entries).  Read in one transaction, the answer is the state's before that
# commit; read torn, it would lack the report.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" compromise "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
state="$XDG_DATA_HOME/bouncewatch/state.sqlite"
later=2026-11-21T09:30:00+00:00

"$BW_BIN" scan --json >/dev/null 2>&1 || bw_expect_eq "first scan" failed ok
# the answer at a later "now", from the snapshot, on a copy of the state (a
# run at a "now" already answered is served from the document it kept)
cp -a "$XDG_DATA_HOME" "$BW_TMP/calm-data"
cp -a "$XDG_CACHE_HOME" "$BW_TMP/calm-cache"
XDG_DATA_HOME="$BW_TMP/calm-data" XDG_CACHE_HOME="$BW_TMP/calm-cache" \
    BOUNCEWATCH_NOW=$later BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json \
    >"$BW_TMP/calm.json" 2>"$BW_TMP/calm.err" || bw_expect_eq "scan at a later now" failed ok
bw_expect_eq "nothing new: served from the snapshot" \
    "$(grep -c 'timing: snap-load' "$BW_TMP/calm.err")" 1

BOUNCEWATCH_NOW=$later BOUNCEWATCH_DEBUG_TIMING=1 BOUNCEWATCH_TEST_SNAPSHOT_GATE="$BW_TMP/gate" \
    "$BW_BIN" scan --json >"$BW_TMP/raced.json" 2>"$BW_TMP/raced.err" &
pid=$!
i=0
while [ ! -e "$BW_TMP/gate.waiting" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
bw_expect_eq "the run waits between its reads" "$(test -e "$BW_TMP/gate.waiting" && echo yes)" yes
python3 - "$state" <<'PY' || bw_expect_eq "a report removed meanwhile" failed ok
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
row = db.execute("SELECT message_id FROM snap_items ORDER BY date DESC LIMIT 1").fetchone()
assert row, "no snapshot entry"
db.execute("BEGIN IMMEDIATE")
db.execute("DELETE FROM snap_items WHERE message_id=?", row)
db.execute("DELETE FROM items WHERE message_id=?", row)
db.commit()
PY
touch "$BW_TMP/gate.go"
wait "$pid" || bw_expect_eq "the raced run" failed ok
bw_expect_eq "raced: served from the snapshot" "$(grep -c 'timing: snap-load' "$BW_TMP/raced.err")" 1
bw_same_json "raced: the answer of one save" "$BW_TMP/raced.json" "$BW_TMP/calm.json"
bw_done
