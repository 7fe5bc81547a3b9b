#!/bin/sh
# T205-scan-subject-prefixes: one subject normaliser on both sides of the
# sent-mail lookup.  The owner answered Polish, Spanish and Italian
# correspondents from clients that write "Odp:", "RV:" and "I:"; the
# answers bounced, and the bounces quote the original without its
# Message-ID, so only the subject (and the time) ties them to the Sent
# copy.  Each must be called legitimate with that evidence, never
# backscatter; a bounce about a subject the owner never sent stays
# unmatched.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
export LC_ALL=C LANGUAGE= BOUNCEWATCH_NOW=2026-11-20T14:00:00+00:00
mail="$BW_TMP/mail"
. "$BW_SRCDIR/tests/e2e/subject-mail.sh"

sent "Weekly notes" "team@example.org" "Mon, 16 Nov 2026 09:00:00 +0000"
sent "Lunch on Friday?" "sam@friends.example" "Tue, 17 Nov 2026 12:00:00 +0000"
sent "Re: Holiday photos" "kim@friends.example" "Wed, 18 Nov 2026 18:00:00 +0000"
sent "Odp: Faktura 12/2026" "biuro@firma.example" "Thu, 19 Nov 2026 10:00:00 +0000"
sent "RV: Presupuesto de la obra" "obras@empresa.example" "Thu, 19 Nov 2026 11:00:00 +0000"
sent "I: Preventivo cucina" "info@cucine.example" "Thu, 19 Nov 2026 12:00:00 +0000"
bounce 1 "Odp: Faktura 12/2026" "biuro@firma.example" "Thu, 19 Nov 2026 10:00:05 +0000"
bounce 2 "RV: Presupuesto de la obra" "obras@empresa.example" "Thu, 19 Nov 2026 11:00:05 +0000"
bounce 3 "I: Preventivo cucina" "info@cucine.example" "Thu, 19 Nov 2026 12:00:05 +0000"
bounce 4 "Odp: Zaproszenie na szkolenie" "kadry@firma.example" "Thu, 19 Nov 2026 13:00:05 +0000"
bw_notmuch_setup "$mail" alex@example.org

"$BW_BIN" scan --json --quiet >"$BW_TMP/scan.json" || echo "FAIL: scan exited $?"
python3 - "$BW_TMP/scan.json" <<'EOF' || bw_fail_count=$((bw_fail_count + 1))
import json, sys
doc = json.load(open(sys.argv[1]))
by_mid = {b["message_id"].split(".")[0]: b for b in doc["bounces"]}
bad = 0
for mid, subject in (("bounce1", "Faktura 12/2026"), ("bounce2", "Presupuesto de la obra"),
                     ("bounce3", "Preventivo cucina")):
    b = by_mid.get(mid)
    if b is None:
        print("FAIL: %s (%s) not reported" % (mid, subject)); bad += 1; continue
    said = 'a message with the subject "%s" was sent from this mailbox' % subject
    if not any(said in e for e in b["evidence"]):
        print("FAIL: %s: no sent-subject match for %r: %s" % (mid, subject, b["evidence"])); bad += 1
    if b["class"] == "backscatter":
        print("FAIL: %s: a bounce of the owner's own answer called backscatter" % mid); bad += 1
b = by_mid.get("bounce4")
if b is None or any("was sent from this mailbox at that time" in e and "no message" not in e
                    for e in b["evidence"]):
    print("FAIL: bounce4: a subject never sent matched: %s" % (b and b["evidence"])); bad += 1
sys.exit(1 if bad else 0)
EOF
bw_done
