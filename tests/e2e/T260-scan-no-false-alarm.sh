#!/bin/sh
# T260-scan-no-false-alarm: the owner keeps Sent copies on the laptop, but
# also writes from a phone that keeps none.  One phone message to three new
# addresses bounced three times, another one a month earlier once: the
# forged-looking reports went through the owner's own provider with the
# password (origin own-account), as a hijacked account's spam would.  That
# is not enough for "compromise-suspected" (a security alarm that cries
# wolf teaches people to ignore it): the assessment names the reports in a
# note instead, in a full scan and in a run served from the stored state.
# The calm fixture of tests/fixtures/make-mailbox.py is the rest of the
# mailbox; the phone's reports reuse its formats.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

mail="$BW_TMP/mail"
python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" calm "$mail" --now "$BOUNCEWATCH_NOW"
python3 - "$BW_SRCDIR/tests/fixtures/make-mailbox.py" "$mail" "$BOUNCEWATCH_NOW" <<'PY'
import datetime as dt, importlib.util, sys
spec = importlib.util.spec_from_file_location("mkbox", sys.argv[1])
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)
now = dt.datetime.fromisoformat(sys.argv[3]).astimezone(dt.timezone.utc)
box = mk.Box(sys.argv[2])
box.n = 10000
# (sent, subject, recipients): the phone's messages, never in Sent
phone = [(now - dt.timedelta(days=2, hours=3), "Dinner on Saturday?",
          ["hana@newfriends.example.net", "ivo@newfriends.example.net", "jo@other.example.com"]),
         (now - dt.timedelta(days=33), "Lost keys", ["keys@lostfound.example.org"])]
for k, (t, subject, rcpts) in enumerate(phone):
    mid = "%d.phone%d@phone.example.org" % (int(t.timestamp()), k)
    for j, rcpt in enumerate(rcpts):
        rt = t + dt.timedelta(minutes=3 + j)
        text = mk.dsn("phone-%d-%d@mx.%s" % (k, j, rcpt.split("@")[1]), rcpt, "5.1.1",
                      "550 5.1.1 <%s>: Recipient address rejected: User unknown" % rcpt,
                      mk.sent_headers(mid, rcpt, subject, t).replace("FixtureMail/2.1", "PhoneMail/16"),
                      rt, "mx." + rcpt.split("@")[1])
        box.add("INBOX", text, rt)
PY
bw_notmuch_setup "$mail" owner@example.org

check() {  # FILE LABEL
    python3 - "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
label = sys.argv[2]
a = doc["assessment"]
phone = [b for b in doc["bounces"] if b["message_id"].startswith("phone-")]
errs = []
if len(phone) != 4:
    errs.append("%s: %d phone reports found, want 4" % (label, len(phone)))
if a["status"] == "compromise-suspected":
    errs.append("%s: a false compromise alarm: %s" % (label, a["summary"]))
if a["status"] != "clear":
    errs.append("%s: status %s, want clear" % (label, a["status"]))
if not any("not in your sent mail" in s for s in a["advice"]):
    errs.append("%s: no note about the mail that went out through the account" % label)
for e in errs:
    print("  " + e)
sys.exit(1 if errs else 0)
PY
}

rc=0; "$BW_BIN" scan --json >"$BW_TMP/full.json" || rc=$?
bw_expect_eq "scan exit" "$rc" 0
bw_expect_ok "full scan: no alarm, a note" check "$BW_TMP/full.json" full
# Nothing new: the run is served from the stored state; same call.
rc=0; "$BW_BIN" scan --json >"$BW_TMP/again.json" || rc=$?
bw_expect_eq "second scan exit" "$rc" 0
bw_expect_ok "stored state: no alarm, a note" check "$BW_TMP/again.json" again
# The human report must not open with "All clear" when it carries the note.
LC_ALL=C "$BW_BIN" scan >"$BW_TMP/human.txt" 2>&1 || true
head -n 5 "$BW_TMP/human.txt" | grep -q "All clear" && bw_expect_eq "human headline" "All clear" "not All clear"
bw_expect_ok "human headline points at the note" grep -q "read the note below" "$BW_TMP/human.txt"
bw_done
