#!/bin/sh
# T341-scan-known-ids: the state's set of known Message-IDs (scan-read.c,
# "known ids") tells the new messages of the lastmod range from old ones
# whose tags changed (with synchronize_flags a tag change renames the
# file); an incremental run must still never take a removal for a tag
# change.  Each step is compared with a full rescan of the same mail (its
# own state), and the way the run knew whether messages were removed is
# checked:
#   - old messages re-tagged in a folder bigger than the directory budget:
#     counted, and that folder's files derived from the sums, so that mail
#     arriving later is told by the directories again (no count);
#   - old messages re-tagged, a report removed and a new message, in one
#     step: counted, the removal found, the set listed again;
#   - a set that does not go with the state's save (as an older program's
#     save leaves it) is not used, even where it would hide a removal;
#   - an old message given a second file from someone else (its From
#     header no longer shows every From term of the range): the counts of
#     mail from that person are asked again;
#   - a run that tagged: the set goes with the revision it moves past its
#     own tags (the next run adds to it);
#   - another run saving while this one reads the state
#     (BOUNCEWATCH_TEST_READ_GATE), or while it works: the set is listed again
#     from this run's snapshot, and a run with nothing new does not write
#     its older snapshot over the other's save (BOUNCEWATCH_TEST_SAVE_GATE).
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
# a folder bigger than the directory budget (a quarter of the messages +
# 256): 400 ordinary messages
mkdir -p "$BW_TMP/mail/Archive/cur" "$BW_TMP/mail/Small/cur" "$BW_TMP/held"
bw_bulk_notes "$BW_TMP/mail/Archive/cur" "$BW_TMP/held" 420 400
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

same() { bw_same_json "$1" "$2" "$3" revision; }  # equal but for the revision
# step NAME: notmuch new, an incremental run (timing in $BW_TMP/NAME.err)
# and a full rescan on a copy of the state; they must agree
step() {
    notmuch new --no-hooks --quiet
    BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/$1.json" 2>"$BW_TMP/$1.err" \
        || bw_expect_eq "$1: incremental scan" failed ok
    compare "$1"
}
compare() {
    bw_full_rescan "$1"
    same "$1: incremental == full" "$BW_TMP/$1.json" "$BW_TMP/$1-full.json"
}
told() {  # NAME: how the run knew whether messages were removed
    grep -o 'timing: removals:[a-z]*' "$BW_TMP/$1.err" | sed 's/timing: removals://' | head -1
}
set_was() {  # NAME: how the run kept the set (add, list or nothing)
    grep -o 'timing: known-ids:[a-z]*' "$BW_TMP/$1.err" | sed 's/timing: known-ids://' | head -1
}
report_file() {  # NAME N: the file of a report, as step NAME's full scan gives it
    python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))["bounces"]
print(b[int(sys.argv[2]) % len(b)]["file"])' "$BW_TMP/$1-full.json" "$2"
}
report_id() {
    python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))["bounces"]
print(b[int(sys.argv[2]) % len(b)]["message_id"])' "$BW_TMP/$1-full.json" "$2"
}
count_reports() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$1"; }
arrive() { mv "$BW_TMP/held/bulk-$1:2," "$BW_TMP/mail/Small/cur/"; }
state() { echo "$XDG_DATA_HOME/bouncewatch/state.sqlite"; }
at_gate() {  # NAME: wait (30 s at most) until a run waits at gate NAME
    i=0
    while [ ! -e "$BW_TMP/$1.waiting" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}

BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/first.json" 2>"$BW_TMP/first.err" \
    || bw_expect_eq "first scan" failed ok
bw_expect_eq "first scan: the set listed" "$(set_was first)" list
compare first

# 1. the user reads three old messages of the big folder: their files are
# renamed; counted (the folder is too big to count), nothing removed
notmuch tag -unread -- id:bulk-1@example.net or id:bulk-2@example.net or id:bulk-3@example.net
# (notmuch new records a folder's time only when it looks at it in a later
# second than the change: else the folder looks changed to the next run)
sleep 1
step retag
bw_expect_eq "re-tag in a big folder: counted" "$(told retag)" count
bw_expect_eq "re-tag in a big folder: the set added to" "$(set_was retag)" add
python3 -c 'import sqlite3, sys
sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' "$(state)" "$BW_TMP/retag-state.sqlite"
# ... and mail that arrives later is told by the directories: the big
# folder's files were derived from the sums, not left unknown
arrive 400
arrive 401
step later-mail
bw_expect_eq "mail after a re-tag: told by the directories" "$(told later-mail)" dirs

# 2. two old messages re-tagged, a report removed and a new message, in one
# step: the count finds the removal (a set that took the new message for
# an old one would not), the report leaves, the set is listed again
notmuch tag +unread -- id:bulk-1@example.net or id:bulk-2@example.net
before=$(count_reports "$BW_TMP/later-mail-full.json")
cp "$(report_file later-mail 3)" "$BW_TMP/removed-report"
rm -f "$(report_file later-mail 3)"
arrive 402
sleep 1
step retag-remove-new
bw_expect_eq "re-tag, removal and new mail: counted" "$(told retag-remove-new)" count
bw_expect_eq "re-tag, removal and new mail: the set listed again" "$(set_was retag-remove-new)" list
bw_expect_eq "re-tag, removal and new mail: the report left" \
    "$(count_reports "$BW_TMP/retag-remove-new.json")" "$((before - 1))"
# after a removal the folders are all counted again: later mail is told by
# the directories
arrive 403
step after-removal
bw_expect_eq "mail after a removal: told by the directories" "$(told after-removal)" dirs

# 3. a set that does not go with the state's save: the set as step 1 left
# it (it holds the report removed in step 2), as a program that keeps no
# set leaves it when it saves after that.  The removed report comes back
# under its Message-ID and another report is removed: a stale set would
# take the one that came back for old, and the count would balance.
python3 - "$(state)" "$BW_TMP/retag-state.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("ATTACH ? AS old", (sys.argv[2],))
db.execute("DELETE FROM main.known_ids")
db.execute("INSERT INTO main.known_ids SELECT * FROM old.known_ids")
for k in ("known_ids_key", "known_ids_at"):
    db.execute("UPDATE main.meta SET value=(SELECT value FROM old.meta WHERE key=?1)"
               " WHERE key=?1", (k,))
db.commit()
PY
cp "$BW_TMP/removed-report" "$BW_TMP/mail/Small/cur/back:2,S"
rm -f "$(report_file after-removal 5)"
step stale-set
bw_expect_eq "a stale set: not used, counted" "$(told stale-set)" count
bw_expect_eq "a stale set: listed again" "$(set_was stale-set)" list

# 4. another run saves while this one works.  (a) This run has a new
# message to save; while it waits before its save, a message arrives and
# another run saves.  Then a report is removed: with a set holding the
# other run's later message, that message would look old and balance the
# count.  (The waiting run without our own Xapian handle: with it, the
# commit made while it waits makes it read again before it saves, T343,
# and it never saves its older snapshot over the other's.  Without it
# (NOTMUCH_DATABASE, an unknown schema) notmuch's revision is all that
# tells, and a commit that does not move the handle it reads leaves it
# held: this run saves over the other's, which is what is checked here.)
arrive 404
notmuch new --no-hooks --quiet
BOUNCEWATCH_TEST_XAPIAN=off BOUNCEWATCH_TEST_SAVE_GATE="$BW_TMP/gate-a" BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" scan --json >"$BW_TMP/race-a.json" 2>"$BW_TMP/race-a.err" &
pid=$!
at_gate gate-a
arrive 405
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/race-other.json" 2>/dev/null || bw_expect_eq "the other run" failed ok
touch "$BW_TMP/gate-a.go"
wait "$pid" || bw_expect_eq "the waiting run" failed ok
bw_expect_eq "another run saved: not read again" "$(grep -c 'timing: retry' "$BW_TMP/race-a.err")" 0
bw_expect_eq "another run saved: the set listed from this run's snapshot" "$(set_was race-a)" list
rm -f "$(report_file stale-set 7)"
step race-remove
bw_expect_eq "removal after a race: counted" "$(told race-remove)" count

# (b) This run has nothing new (a tag on a stored report only) and waits
# before it records the revision; meanwhile a message arrives and another
# run saves.  Then a report is removed: with this run's older revision
# and folder table over the other's count and set, the new message and
# the removal would cancel in the sums of files.
notmuch tag +seen-by-test -- "id:$(report_id race-remove 2)"
BOUNCEWATCH_TEST_SAVE_GATE="$BW_TMP/gate-b" BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" scan --json >"$BW_TMP/race-b.json" 2>"$BW_TMP/race-b.err" &
pid=$!
at_gate gate-b
arrive 406
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/race-other2.json" 2>/dev/null || bw_expect_eq "the other run" failed ok
touch "$BW_TMP/gate-b.go"
wait "$pid" || bw_expect_eq "the waiting run" failed ok
grep -q "timing: snapshot" "$BW_TMP/race-b.err" || bw_expect_eq "the waiting run had nothing new" no yes
rm -f "$(report_file race-remove 6)"
step race-nothing-new
# 3. An old message gets a second file under its Message-ID, from someone
# else: notmuch indexes that file's From too but keeps the first file's
# From header, so the header no longer shows every From term of the
# range.  A report whose original went to a stranger must now read "has
# written to this mailbox" in the incremental run as in the full one.
who=$(python3 -c 'import json, sys
for b in json.load(open(sys.argv[1]))["bounces"]:
    for e in b["evidence"]:
        if e.startswith("this mailbox never wrote to "):
            print(e.split()[-1]); sys.exit(0)' "$BW_TMP/race-nothing-new-full.json")
[ -n "$who" ] || bw_expect_eq "a report with a recipient" none some
sed -e "s/^From: .*/From: Someone <$who>/" "$BW_TMP/mail/Archive/cur/bulk-000:2,"* \
    >"$BW_TMP/mail/Small/cur/bulk-000-copy:2,"
step second-copy
bw_expect_eq "the copy changed the full scan's verdict" \
    "$(cmp -s "$BW_TMP/race-nothing-new-full.json" "$BW_TMP/second-copy-full.json" && echo same || echo changed)" changed
grep -q "$who has written to this mailbox" "$BW_TMP/second-copy-full.json" ||
    bw_expect_eq "the full scan sees $who as a correspondent" no yes
# 4. A run that tags moves the saved revision past its own tags (they add
# and remove no message), and the set of known ids goes with it: the next
# run with new mail adds to the set instead of listing every id again.
arrive 407
notmuch new --no-hooks --quiet
"$BW_BIN" scan --tag >/dev/null 2>&1 || bw_expect_eq "scan --tag" failed ok
arrive 408
step after-tagging
bw_expect_eq "after a tagging run: the set added to" "$(set_was after-tagging)" add
# 5. Another run saves while this one reads the state: run X has seen a
# new message and waits before its save; a report is removed; run Y
# reads the state's count and set, then waits; X saves (its set holds
# the new message); Y goes on.  Y must look in the set it read with the
# count (one read transaction): in X's set the new message would look
# old, and it and the removal would cancel in the sums.
arrive 409
notmuch new --no-hooks --quiet
BOUNCEWATCH_TEST_SAVE_GATE="$BW_TMP/gate-c" "$BW_BIN" scan --json >/dev/null 2>&1 &
xpid=$!
at_gate gate-c
rm -f "$(report_file after-tagging 4)"
notmuch new --no-hooks --quiet
BOUNCEWATCH_TEST_READ_GATE="$BW_TMP/gate-d" BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" scan --json >"$BW_TMP/race-read.json" 2>"$BW_TMP/race-read.err" &
ypid=$!
at_gate gate-d
touch "$BW_TMP/gate-c.go"
wait "$xpid" || bw_expect_eq "the run that saves first" failed ok
touch "$BW_TMP/gate-d.go"
wait "$ypid" || bw_expect_eq "the run that read first" failed ok
compare race-read
bw_expect_eq "a save while the state is read: the removal counted" "$(told race-read)" count
bw_done
