#!/bin/sh
# T210-scan-incremental: an incremental scan (lastmod since the saved
# revision) gives exactly what a full rescan gives; campaign ids survive
# growth, rescans and --full; our own tagging (which bumps lastmod) changes
# nothing; a run with nothing new is fast.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/all" --now "$BOUNCEWATCH_NOW"
# Start with half of the inbox (every other file) and the sent mail: part
# of the flood, part of the real bounces.
mkdir -p "$BW_TMP/mail/INBOX/cur" "$BW_TMP/held"
cp -r "$BW_TMP/all/Sent" "$BW_TMP/all/Junk" "$BW_TMP/mail/"
i=0
for f in "$BW_TMP"/all/INBOX/cur/*; do
    i=$((i + 1))
    if [ $((i % 2)) -eq 0 ]; then cp "$f" "$BW_TMP/mail/INBOX/cur/"; else cp "$f" "$BW_TMP/held/"; fi
done
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

# Compare two scan documents; the database revision moves with every write
# (our tags included), everything else must be identical.
same() { bw_same_json "$1" "$2" "$3" revision; }
ids() { python3 -c 'import json,sys; print(" ".join(sorted(c["id"] for c in json.load(open(sys.argv[1]))["campaigns"])))' "$1"; }

"$BW_BIN" scan --json >"$BW_TMP/first.json" || bw_expect_eq "first scan" failed ok
first_ids=$(ids "$BW_TMP/first.json")
[ -n "$first_ids" ] || bw_expect_eq "first scan finds the campaign" none some

# The rest of the mail arrives.
cp "$BW_TMP"/held/* "$BW_TMP/mail/INBOX/cur/"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/inc.json" || bw_expect_eq "incremental scan" failed ok
"$BW_BIN" scan --json >"$BW_TMP/again.json" || bw_expect_eq "nothing-new scan" failed ok
"$BW_BIN" scan --json --full >"$BW_TMP/full.json" || bw_expect_eq "full scan" failed ok
same "incremental == full" "$BW_TMP/inc.json" "$BW_TMP/full.json"
same "nothing new == full" "$BW_TMP/again.json" "$BW_TMP/full.json"

# Nothing new, but another "now" (BOUNCEWATCH_NOW replaying the middle of
# the flood: the surge is under way then): surges and the assessment are
# recomputed from the state's snapshot, with and without --since, exactly
# as a full rescan at that time gives them.
replay=$(python3 -c 'import datetime as d, sys; print((d.datetime.fromisoformat(sys.argv[1]) - d.timedelta(hours=3, minutes=30)).isoformat())' "$BOUNCEWATCH_NOW")
BOUNCEWATCH_NOW=$replay BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/replay.json" 2>"$BW_TMP/replay.err" \
    || bw_expect_eq "scan replay" failed ok
grep -q "timing: snapshot" "$BW_TMP/replay.err" || bw_expect_eq "replay run served from the snapshot" no yes
BOUNCEWATCH_NOW=$replay "$BW_BIN" scan --json --since=2h >"$BW_TMP/replay-since.json" || bw_expect_eq "scan replay --since" failed ok
BOUNCEWATCH_NOW=$replay "$BW_BIN" scan --json --full >"$BW_TMP/replay-full.json" || bw_expect_eq "full scan replay" failed ok
BOUNCEWATCH_NOW=$replay "$BW_BIN" scan --json --since=2h --full >"$BW_TMP/replay-since-full.json" \
    || bw_expect_eq "full scan replay --since" failed ok
python3 - "$BW_TMP/again.json" "$BW_TMP/replay.json" <<'PY' || bw_expect_eq "a replay now changes surges or assessment" same differs
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if [s.get("ongoing") for s in b["surges"]] == [True] and a["assessment"] != b["assessment"] else 1)
PY
same "nothing new, replay now == full" "$BW_TMP/replay.json" "$BW_TMP/replay-full.json"
same "nothing new, replay now, --since == full" "$BW_TMP/replay-since.json" "$BW_TMP/replay-since-full.json"

# Ids of the campaign seen half-grown are kept.
inc_ids=$(ids "$BW_TMP/inc.json")
for id in $first_ids; do
    case " $inc_ids " in *" $id "*) ;; *) bw_expect_eq "campaign $id kept after growth" missing kept ;; esac
done
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$BW_TMP/inc.json")
bw_expect_eq "all reports after growth" "$n" 43

# Tagging bumps lastmod of the reports: deduplicated, nothing changes.
"$BW_BIN" scan --json --tag >"$BW_TMP/tag.json" || bw_expect_eq "scan --tag" failed ok
"$BW_BIN" scan --json >"$BW_TMP/after-tag.json" || bw_expect_eq "scan after tag" failed ok
same "after tagging == full" "$BW_TMP/after-tag.json" "$BW_TMP/full.json"

# A user's tag change on ordinary mail makes the run re-derive everything,
# with the same answer.
notmuch tag +read-later -- from:alice@friends.example.com
"$BW_BIN" scan --json >"$BW_TMP/user-tag.json" || bw_expect_eq "scan after user tag" failed ok
same "after a user's tag == full" "$BW_TMP/user-tag.json" "$BW_TMP/full.json"

# Two runs at once (the post-new hook and the agent) while more reports
# arrive: both succeed, nothing is lost, the state equals a full rescan.
python3 - "$BW_TMP/mail/INBOX/cur" <<'PY'
import os, sys
d = sys.argv[1]
src = sorted(f for f in os.listdir(d) if open(os.path.join(d, f)).read().find("bs-flood-") >= 0)[:6]
for k, f in enumerate(src):
    data = open(os.path.join(d, f)).read().replace("Message-ID: <bs-flood-", "Message-ID: <bs-more%d-" % k, 1)
    open(os.path.join(d, "more%d:2,S" % k), "w").write(data)
PY
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/p1.json" 2>"$BW_TMP/p1.err" & p1=$!
"$BW_BIN" scan --json >"$BW_TMP/p2.json" 2>"$BW_TMP/p2.err" & p2=$!
rc1=0; wait $p1 || rc1=$?
rc2=0; wait $p2 || rc2=$?
bw_expect_eq "concurrent runs succeed" "$rc1 $rc2" "0 0"
"$BW_BIN" scan --json >"$BW_TMP/after-par.json" || bw_expect_eq "scan after concurrent runs" failed ok
"$BW_BIN" scan --json --full >"$BW_TMP/full2.json" || bw_expect_eq "full scan 2" failed ok
same "after concurrent runs == full" "$BW_TMP/after-par.json" "$BW_TMP/full2.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$BW_TMP/after-par.json")
bw_expect_eq "all reports after concurrent runs" "$n" 49

# The owner writes to an address a backscatter report names: what was
# known about the sent mail (kept between runs while it does not change)
# no longer holds, and the verdict follows, as in a full rescan.
addr=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(next(r["address"] for b in d["bounces"] if b["class"] == "backscatter" for r in b["recipients"] if r.get("address")))' "$BW_TMP/after-par.json")
mkdir -p "$BW_TMP/mail/Sent/cur"
sent_date=$(python3 -c 'import email.utils, datetime as d, sys; print(email.utils.format_datetime(d.datetime.fromisoformat(sys.argv[1])))' "$BOUNCEWATCH_NOW")
# (Written as the owner's mail client writes: the same Message-ID domain
# and User-Agent as the sent mail, so the profile keeps what a verdict
# reads of it, bw_profile_verdict_digest.)
printf 'From: Owner <owner@example.org>\nTo: %s\nSubject: hello again\nMessage-ID: <owner-new-1@laptop.example.org>\nUser-Agent: FixtureMail/2.1\nDate: %s\n\nHi.\n' \
    "$addr" "$sent_date" >"$BW_TMP/mail/Sent/cur/owner-new:2,S"
notmuch new --no-hooks --quiet
# fps: the stored items' fingerprints, one line each.  They do not show in
# the document, but the next run builds campaigns with them.  (A stored
# report classified again keeps no body text, only its SimHash: this
# fixture's bodies are too short for one, bench/sent-exact.py checks that on
# the scenarios.)
fps() {
    python3 - "$XDG_DATA_HOME/bouncewatch/state.sqlite" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for mid, j in sorted(db.execute("SELECT message_id, json FROM items")):
    print(mid, json.dumps(json.loads(j).get("fingerprint"), sort_keys=True))
PY
}
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/sent.json" 2>"$BW_TMP/sent.err" \
    || bw_expect_eq "scan after new sent mail" failed ok
# Only sent mail was added: each stored verdict is kept unless an answer
# about the sent mail it got changed (scan-classify.c, must_ask): the
# report naming the address is classified again, the others are kept.
grep -q "timing: classify+some" "$BW_TMP/sent.err" \
    || bw_expect_eq "new sent mail: some verdicts kept, some computed again" "$(grep classify "$BW_TMP/sent.err")" classify+some
fps >"$BW_TMP/sent.fp"
"$BW_BIN" scan --json --full >"$BW_TMP/sent-full.json" || bw_expect_eq "full scan after new sent mail" failed ok
fps >"$BW_TMP/sent-full.fp"
same "after new sent mail == full" "$BW_TMP/sent.json" "$BW_TMP/sent-full.json"
cmp -s "$BW_TMP/sent.fp" "$BW_TMP/sent-full.fp" \
    || bw_expect_eq "after new sent mail: stored fingerprints == full" differ same
python3 - "$BW_TMP/after-par.json" "$BW_TMP/sent.json" "$addr" <<'PY' || bw_expect_eq "new sent mail changes a verdict" no yes
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ev = lambda d: [e for x in d["bounces"] for e in x["evidence"] if sys.argv[3] in e]
sys.exit(0 if ev(a) != ev(b) else 1)
PY

# New mail that is no report and not the owner's: the stored verdicts are
# kept (scan-classify.c) unless the mail can change an answer their
# classification got.  A stranger a backscatter report names writes to the
# owner: that report is classified again ("classify+some"), the others are
# kept, and the result is a full rescan's.
stranger=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(next(r["address"] for b in d["bounces"] if b["class"] == "backscatter" for r in b["recipients"]
           if r.get("address") and r["address"] != sys.argv[2]))' "$BW_TMP/sent.json" "$addr")
printf 'From: Someone <%s>\nTo: owner@example.org\nSubject: hello\nMessage-ID: <stranger-1@example.net>\nDate: %s\n\nHi.\n' \
    "$stranger" "$sent_date" >"$BW_TMP/mail/INBOX/cur/stranger-1:2,S"
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/stranger.json" 2>"$BW_TMP/stranger.err" \
    || bw_expect_eq "scan after a stranger's mail" failed ok
grep -q "timing: classify+some" "$BW_TMP/stranger.err" \
    || bw_expect_eq "stranger's mail: some verdicts kept, some computed again" "$(grep classify "$BW_TMP/stranger.err")" classify+some
# (The full rescans from here on run in a copy of the state: the rows and
# the snapshot the incremental runs wrote are what the next ones read.)
full_in_copy() {
    rm -rf "$BW_TMP/copy"
    mkdir -p "$BW_TMP/copy"
    cp -a "$XDG_DATA_HOME" "$BW_TMP/copy/data"
    cp -a "$XDG_CACHE_HOME" "$BW_TMP/copy/cache"
    cp -a "$XDG_STATE_HOME" "$BW_TMP/copy/state"
    XDG_DATA_HOME="$BW_TMP/copy/data" XDG_CACHE_HOME="$BW_TMP/copy/cache" \
        XDG_STATE_HOME="$BW_TMP/copy/state" "$BW_BIN" scan --json --full
}
full_in_copy >"$BW_TMP/stranger-full.json" || bw_expect_eq "full scan after a stranger's mail" failed ok
same "after a stranger's mail == full" "$BW_TMP/stranger.json" "$BW_TMP/stranger-full.json"
python3 - "$BW_TMP/sent.json" "$BW_TMP/stranger.json" "$stranger" <<'PY' || bw_expect_eq "a stranger's mail changes a verdict" no yes
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ev = lambda d: [e for x in d["bounces"] for e in x["evidence"] if sys.argv[3] in e]
sys.exit(0 if ev(a) != ev(b) else 1)
PY
# The report classified again was written again (its row, its questions,
# its snapshot entry; store.c reads back only the rows it may write): the
# next incremental run (one more mail, no report) and a run at another
# "now" served from the snapshot each agree with a full rescan.
printf 'From: Another <another@example.net>\nTo: owner@example.org\nSubject: lunch\nMessage-ID: <stranger-2@example.net>\nDate: %s\n\nHi.\n' \
    "$sent_date" >"$BW_TMP/mail/INBOX/cur/stranger-2:2,S"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/stranger2.json" || bw_expect_eq "scan after a second mail" failed ok
full_in_copy >"$BW_TMP/stranger2-full.json" || bw_expect_eq "full scan after a second mail" failed ok
same "after a stranger's mail, then another == full" "$BW_TMP/stranger2.json" "$BW_TMP/stranger2-full.json"
BOUNCEWATCH_NOW=$replay BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/stranger-replay.json" 2>"$BW_TMP/stranger-replay.err" \
    || bw_expect_eq "replay after a stranger's mail" failed ok
grep -q "timing: snapshot" "$BW_TMP/stranger-replay.err" || bw_expect_eq "replay after a stranger's mail served from the snapshot" no yes
BOUNCEWATCH_NOW=$replay full_in_copy >"$BW_TMP/stranger-replay-full.json" || bw_expect_eq "full replay after a stranger's mail" failed ok
same "replay after a stranger's mail == full" "$BW_TMP/stranger-replay.json" "$BW_TMP/stranger-replay-full.json"
# Another copy of a flood report arrives: every stored verdict is kept.
f=$(grep -l "bs-more2-" "$BW_TMP"/mail/INBOX/cur/* | head -1)
sed 's/Message-ID: <bs-more2-/Message-ID: <bs-later-/' "$f" >"$BW_TMP/mail/INBOX/cur/later-1:2,S"
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/later.json" 2>"$BW_TMP/later.err" \
    || bw_expect_eq "scan after one more report" failed ok
grep -q "timing: classify+kept" "$BW_TMP/later.err" \
    || bw_expect_eq "one more report: every stored verdict kept" "$(grep classify "$BW_TMP/later.err")" classify+kept
"$BW_BIN" scan --json --full >"$BW_TMP/later-full.json" || bw_expect_eq "full scan after one more report" failed ok
same "after one more report == full" "$BW_TMP/later.json" "$BW_TMP/later-full.json"
# ... and the profile took what the stored reports teach from the state
# (scan-classify.c, "what the profile learnt") instead of reading them.
grep -q "timing: learn+stored" "$BW_TMP/later.err" \
    || bw_expect_eq "one more report: the stored lessons taken" "$(grep learn "$BW_TMP/later.err")" learn+stored

# A copy of a stored backscatter report's original turns up in Sent (the
# owner did send it): that report now teaches the profile, so the stored
# lessons are not taken; every report is read and the verdict follows, as
# in a full rescan.
orig=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(next(b["original"]["message_id"] for b in d["bounces"] if b["class"] == "backscatter"
           and (b.get("original") or {}).get("message_id")))' "$BW_TMP/later.json")
printf 'Received: from [192.168.1.20] (laptop.home.example [198.51.100.7])\n\t(Authenticated sender: owner@example.org)\n\tby smtp.other-provider.example (Postfix) with ESMTPSA id 9Z;\n\t%s\nFrom: Owner <owner@example.org>\nTo: someone@example.net\nSubject: sent after all\nMessage-ID: <%s>\nDate: %s\n\nHi.\n' \
    "$sent_date" "$orig" "$sent_date" >"$BW_TMP/mail/Sent/cur/owner-copy:2,S"
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/copy.json" 2>"$BW_TMP/copy.err" \
    || bw_expect_eq "scan after a sent copy of an original" failed ok
grep -q "timing: learn " "$BW_TMP/copy.err" \
    || bw_expect_eq "sent copy of an original: every report read" "$(grep learn "$BW_TMP/copy.err")" learn
"$BW_BIN" scan --json --full >"$BW_TMP/copy-full.json" || bw_expect_eq "full scan after a sent copy of an original" failed ok
same "after a sent copy of an original == full" "$BW_TMP/copy.json" "$BW_TMP/copy-full.json"
python3 - "$BW_TMP/copy.json" "$orig" <<'PY' || bw_expect_eq "a sent copy of the original changes its verdict" no yes
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if all(b["class"] != "backscatter" for b in d["bounces"]
                  if (b.get("original") or {}).get("message_id") == sys.argv[2]) else 1)
PY
# The next report is learnt from the state again, the copy's lesson with it.
f=$(grep -l "bs-more2-" "$BW_TMP"/mail/INBOX/cur/* | head -1)
sed 's/Message-ID: <bs-more2-/Message-ID: <bs-later2-/' "$f" >"$BW_TMP/mail/INBOX/cur/later-2:2,S"
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/later2.json" 2>"$BW_TMP/later2.err" \
    || bw_expect_eq "scan after a report after the copy" failed ok
grep -q "timing: learn+stored" "$BW_TMP/later2.err" \
    || bw_expect_eq "a report after the copy: the stored lessons taken" "$(grep learn "$BW_TMP/later2.err")" learn+stored
"$BW_BIN" scan --json --full >"$BW_TMP/later2-full.json" || bw_expect_eq "full scan after a report after the copy" failed ok
same "a report after the copy == full" "$BW_TMP/later2.json" "$BW_TMP/later2-full.json"
# A second report about one of the owner's real messages arrives, dated
# before the others, and its original shows another provider's DKIM: a new
# lesson, first in the order of the reports.  It is merged into the stored
# lessons at its place; the profile is a full rescan's.
f=$(grep -l "dsn-legit-0@" "$BW_TMP"/mail/INBOX/cur/* | head -1)
sed -e 's/dsn-legit-0@/dsn-legit-again@/' -e 's/d=example\.org;/d=second-provider.example;/' "$f" \
    >"$BW_TMP/mail/INBOX/cur/legit-again:2,S"
grep -q "d=second-provider.example;" "$BW_TMP/mail/INBOX/cur/legit-again:2,S" \
    || bw_expect_eq "the fixture's real bounce quotes a DKIM signature" no yes
# With it comes a report about a message that provider's submission server
# took with a password: learnt, that is the owner's account (the origin
# shows whether the lesson was learnt).
f=$(grep -l "bs-more3-" "$BW_TMP"/mail/INBOX/cur/* | head -1)
sed -e 's/Message-ID: <bs-more3-/Message-ID: <bs-second-/' -e 's/by mx\.[^ ]* with SMTP id/by smtp.second-provider.example with ESMTPSA id/' \
    "$f" >"$BW_TMP/mail/INBOX/cur/second-provider:2,S"
grep -q "by smtp.second-provider.example with ESMTPSA" "$BW_TMP/mail/INBOX/cur/second-provider:2,S" \
    || bw_expect_eq "the fixture's flood report quotes its Received line" no yes
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/lesson.json" 2>"$BW_TMP/lesson.err" \
    || bw_expect_eq "scan after a report with a new lesson" failed ok
grep -q "timing: learn+stored" "$BW_TMP/lesson.err" \
    || bw_expect_eq "a new lesson: merged into the stored ones" "$(grep learn "$BW_TMP/lesson.err")" learn+stored
"$BW_BIN" scan --json --full >"$BW_TMP/lesson-full.json" || bw_expect_eq "full scan after a report with a new lesson" failed ok
same "a report with a new lesson == full" "$BW_TMP/lesson.json" "$BW_TMP/lesson-full.json"

# The post-new hook after new mail builds the stored items whose verdicts
# it keeps from their snapshot entries (slim items, bw-scan.h), not from
# their whole reports; what it saves is what a full rescan gives.
f=$(grep -l "bs-more2-" "$BW_TMP"/mail/INBOX/cur/* | head -1)
sed 's/Message-ID: <bs-more2-/Message-ID: <bs-hook-/' "$f" >"$BW_TMP/mail/INBOX/cur/hook-1:2,S"
notmuch new --no-hooks --quiet
# (a copy of the state before the hook, for the damaged row below)
mkdir -p "$BW_TMP/dmg" && cp -r "$XDG_DATA_HOME/bouncewatch" "$BW_TMP/dmg/"
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" hook post-new --no-notify 2>"$BW_TMP/hook.err" \
    || bw_expect_eq "hook after one more report" failed ok
grep -q "timing: stored+slim" "$BW_TMP/hook.err" \
    || bw_expect_eq "hook: kept items from their entries" "$(grep -E 'stored|classify' "$BW_TMP/hook.err")" stored+slim
! grep -qE "CRITICAL|WARNING|scan failed" "$BW_TMP/hook.err" \
    || bw_expect_eq "hook: no warning" "$(grep -m1 -E 'CRITICAL|WARNING|scan failed' "$BW_TMP/hook.err")" none
"$BW_BIN" scan --json >"$BW_TMP/hook.json" || bw_expect_eq "scan after the hook" failed ok
"$BW_BIN" scan --json --full >"$BW_TMP/hook-full.json" || bw_expect_eq "full scan after the hook" failed ok
same "after the hook's run == full" "$BW_TMP/hook.json" "$BW_TMP/hook-full.json"
# The same hook on the copy, one stored row damaged (it does not read),
# and every slim item made whole from its row where it is saved
# (BOUNCEWATCH_TEST_UNSLIM=entries: as one whose campaign or entry must be
# written): the state is rebuilt from the mail, as when the load finds
# such a row; the save does not fail (it failed at every hook until some
# other command rebuilt the state).
python3 - "$BW_TMP/dmg/bouncewatch/state.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE items SET bin = x'00', json = '{' WHERE message_id ="
           " (SELECT message_id FROM items ORDER BY date LIMIT 1)")
db.commit()
PY
XDG_DATA_HOME="$BW_TMP/dmg" BOUNCEWATCH_TEST_UNSLIM=entries BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" hook post-new --no-notify 2>"$BW_TMP/dmg.err" \
    || bw_expect_eq "hook on a damaged row" failed ok
grep -q "timing: stored+slim" "$BW_TMP/dmg.err" \
    || bw_expect_eq "damaged row: kept items from their entries" "$(grep -E 'stored|classify' "$BW_TMP/dmg.err")" stored+slim
! grep -q "scan failed" "$BW_TMP/dmg.err" \
    || bw_expect_eq "hook on a damaged row saves" "$(grep -m1 'scan failed' "$BW_TMP/dmg.err")" none
grep -q "being rebuilt from the mail" "$BW_TMP/dmg.err" \
    || bw_expect_eq "hook on a damaged row: rebuilt" "$(grep -m1 bouncewatch "$BW_TMP/dmg.err")" rebuilt
XDG_DATA_HOME="$BW_TMP/dmg" "$BW_BIN" scan --json >"$BW_TMP/dmg.json" \
    || bw_expect_eq "scan after the hook on a damaged row" failed ok
same "after the hook on a damaged row == full" "$BW_TMP/dmg.json" "$BW_TMP/hook-full.json"
# (the report goes again: the counts below are the fixture's)
rm -f "$BW_TMP/mail/INBOX/cur/hook-1:2,S"
notmuch new --no-hooks --quiet

# A tag alone on old mail: the user marks every copy of the owner's mail
# as spam, then takes the tag away.  No file and no directory changes,
# only the messages' lastmod (what the directory table cannot tell: the
# lastmod range is listed whole).  Copies tagged spam do not show that the
# mailbox keeps sent mail (op_has_sent_mail), so verdicts change, both
# ways, exactly as in a full rescan.
notmuch tag +spam -- from:owner@example.org
"$BW_BIN" scan --json >"$BW_TMP/spam.json" || bw_expect_eq "scan after a tag on old mail" failed ok
"$BW_BIN" scan --json --full >"$BW_TMP/spam-full.json" || bw_expect_eq "full scan after a tag on old mail" failed ok
same "after a tag on old mail == full" "$BW_TMP/spam.json" "$BW_TMP/spam-full.json"
python3 - "$BW_TMP/later.json" "$BW_TMP/spam.json" <<'PY' || bw_expect_eq "a tag on old mail changes verdicts" no yes
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
v = lambda d: [(x["message_id"], x["class"], x["evidence"]) for x in d["bounces"]]
sys.exit(0 if v(a) != v(b) else 1)
PY
notmuch tag -spam -- from:owner@example.org
"$BW_BIN" scan --json >"$BW_TMP/unspam.json" || bw_expect_eq "scan after a tag taken away" failed ok
"$BW_BIN" scan --json --full >"$BW_TMP/unspam-full.json" || bw_expect_eq "full scan after a tag taken away" failed ok
same "after a tag taken away == full" "$BW_TMP/unspam.json" "$BW_TMP/unspam-full.json"

# A report leaves the mailbox: it leaves the state too, and a later run
# with nothing new (served from the snapshot) agrees with a full rescan.
gone=$(grep -l "bs-more0-" "$BW_TMP"/mail/INBOX/cur/* | head -1)
rm -f "$gone"
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/del.json" 2>"$BW_TMP/del.err" \
    || bw_expect_eq "scan after a deletion" failed ok
# The report taught the profile nothing (backscatter): no lesson's first
# place left with it, the stored lessons are taken.
grep -q "timing: learn+stored" "$BW_TMP/del.err" \
    || bw_expect_eq "a report that taught nothing left: the stored lessons taken" "$(grep learn "$BW_TMP/del.err")" learn+stored
"$BW_BIN" scan --json --full >"$BW_TMP/del-full.json" || bw_expect_eq "full scan after a deletion" failed ok
same "after a deletion == full" "$BW_TMP/del.json" "$BW_TMP/del-full.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$BW_TMP/del.json")
bw_expect_eq "reports after a deletion" "$n" 52
# The report that alone taught the second provider's DKIM domain leaves:
# that lesson's first place left with it, so every report is read again
# and the profile no longer has it, as in a full rescan.
rm -f "$BW_TMP/mail/INBOX/cur/legit-again:2,S"
notmuch new --no-hooks --quiet
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/unlearn.json" 2>"$BW_TMP/unlearn.err" \
    || bw_expect_eq "scan after the lesson's report left" failed ok
grep -q "timing: learn " "$BW_TMP/unlearn.err" \
    || bw_expect_eq "a lesson's first report left: every report read" "$(grep learn "$BW_TMP/unlearn.err")" learn
"$BW_BIN" scan --json --full >"$BW_TMP/unlearn-full.json" || bw_expect_eq "full scan after the lesson's report left" failed ok
same "after the lesson's report left == full" "$BW_TMP/unlearn.json" "$BW_TMP/unlearn-full.json"
rm -f "$(grep -l "bs-more1-" "$BW_TMP"/mail/INBOX/cur/* | head -1)"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >/dev/null || bw_expect_eq "scan after a second deletion" failed ok
BOUNCEWATCH_NOW=$replay BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/del-replay.json" 2>"$BW_TMP/del-replay.err" \
    || bw_expect_eq "replay after a deletion" failed ok
grep -q "timing: snapshot" "$BW_TMP/del-replay.err" || bw_expect_eq "replay after a deletion served from the snapshot" no yes
BOUNCEWATCH_NOW=$replay "$BW_BIN" scan --json --full >"$BW_TMP/del-replay-full.json" || bw_expect_eq "full replay after a deletion" failed ok
same "replay after a deletion == full" "$BW_TMP/del-replay.json" "$BW_TMP/del-replay-full.json"

# Nothing new: answered from the stored snapshot, without reading or
# reclassifying anything (what it costs is measured by bench/, never here:
# a wall-clock bound fails under a sanitizer on a busy machine).
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >/dev/null 2>"$BW_TMP/nothing-new.err" \
    || bw_expect_eq "nothing-new run" failed ok
grep -q "timing: snapshot" "$BW_TMP/nothing-new.err" || bw_expect_eq "nothing-new run served from the snapshot" no yes
bw_done
