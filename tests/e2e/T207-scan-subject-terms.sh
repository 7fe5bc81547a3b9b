#!/bin/sh
# T207-scan-subject-terms: the sent-subject question asks notmuch for the
# subject's words as a phrase, and notmuch (Xapian's TermGenerator) keeps
# some characters inside a word: "1156.74" and "3,500" (between digits),
# "don't" (an apostrophe; U+2019 is indexed as one) and "AT&T" are single
# terms.  A phrase that split them ("1156 74", "don t") never matched, so
# the bounce of a message the owner did send lost that evidence.  Each
# bounce below must find its Sent copy; a subject never sent (a near miss
# of a sent one) stays unmatched.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
export LC_ALL=C LANGUAGE= BOUNCEWATCH_NOW=2026-11-20T14:00:00+00:00
mail="$BW_TMP/mail"
. "$BW_SRCDIR/tests/e2e/subject-mail.sh"

sent "Invoice 1156.74 overdue" "billing@shop.example" "Mon, 16 Nov 2026 09:00:00 +0000"
sent "Don't forget the report" "team@example.org" "Tue, 17 Nov 2026 12:00:00 +0000"
sent "Don’t forget the memo" "kim@friends.example" "Wed, 18 Nov 2026 18:00:00 +0000"
sent "AT&T contract, 3,500 minutes" "sales@telco.example" "Thu, 19 Nov 2026 10:00:00 +0000"
bounce 1 "Invoice 1156.74 overdue" "billing@shop.example" "Mon, 16 Nov 2026 09:00:05 +0000"
bounce 2 "Don't forget the report" "team@example.org" "Tue, 17 Nov 2026 12:00:05 +0000"
bounce 3 "Don’t forget the memo" "kim@friends.example" "Wed, 18 Nov 2026 18:00:05 +0000"
bounce 4 "AT&T contract, 3,500 minutes" "sales@telco.example" "Thu, 19 Nov 2026 10:00:05 +0000"
bounce 5 "Invoice 1156.75 overdue" "billing@shop.example" "Thu, 19 Nov 2026 13:00:05 +0000"
bw_notmuch_setup "$mail" alex@example.org

"$BW_BIN" scan --json --quiet >"$BW_TMP/scan.json" || echo "FAIL: scan exited $?"
python3 - "$BW_TMP/scan.json" <<'EOF' || bw_fail_count=$((bw_fail_count + 1))
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
by_mid = {b["message_id"].split(".")[0]: b for b in doc["bounces"]}
bad = 0
for mid, subject in (("bounce1", "Invoice 1156.74 overdue"), ("bounce2", "Don't forget the report"),
                     ("bounce3", "Don\u2019t forget the memo"),
                     ("bounce4", "AT&T contract, 3,500 minutes")):
    b = by_mid.get(mid)
    if b is None:
        print("FAIL: %s (%s) not reported" % (mid, ascii(subject))); bad += 1; continue
    said = 'a message with the subject "%s" was sent from this mailbox' % subject
    if not any(said in e for e in b["evidence"]):
        print("FAIL: %s: no sent-subject match for %s: %s" % (mid, ascii(subject), ascii(b["evidence"]))); bad += 1
    if b["class"] == "backscatter":
        print("FAIL: %s: a bounce of the owner's own message called backscatter" % mid); bad += 1
b = by_mid.get("bounce5")
if b is None or any("was sent from this mailbox at that time" in e and "no message" not in e
                    for e in b["evidence"]):
    print("FAIL: bounce5: a subject never sent matched: %s" % ascii(b and b["evidence"])); bad += 1
sys.exit(1 if bad else 0)
EOF
bw_done
