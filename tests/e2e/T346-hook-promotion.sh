#!/bin/sh
# T346-hook-promotion: the post-new hook keeps a stored report's verdict
# (a slim item, built from its snapshot entry) and the group stage then
# promotes it: an undetermined report whose original shows nothing of how it
# was sent, stored before its spam run's other reports arrive.  When they do,
# the report shares their subject and sending network and becomes
# backscatter ("the same spam run").  The hook must save that state (the
# promoted item made whole from its row, its added evidence kept), and the
# state must be a full rescan's.  Session 15 shipped a build whose hook failed
# its save here on every run ("cannot save the scan state"), silently: the
# hook exits 0 so that `notmuch new` goes on.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

# A mailbox without copies of sent mail, where the flood's reports are
# backscatter on their own evidence (no login on the way) ...
python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" nosent "$BW_TMP/all" --now "$BOUNCEWATCH_NOW"
mkdir -p "$BW_TMP/mail/INBOX/cur" "$BW_TMP/held"
cp -r "$BW_TMP/all/Junk" "$BW_TMP/mail/"
for f in "$BW_TMP"/all/INBOX/cur/*; do
    if grep -q "bs-nosent-" "$f"; then cp "$f" "$BW_TMP/held/"; else cp "$f" "$BW_TMP/mail/INBOX/cur/"; fi
done
# ... and one more report of that flood whose quoted original lost its
# Received lines: alone it is undetermined (no evidence of how it was sent).
python3 - "$(grep -l 'bs-nosent-28@' "$BW_TMP"/held/* | head -1)" "$BW_TMP/mail/INBOX/cur/lone:2,S" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
head, sep, orig = t.partition("Content-Type: text/rfc822-headers\n\n")
assert sep, "the fixture's report quotes the original's headers"
orig = re.sub(r"^Received:.*\n(?:[ \t].*\n)*", "", orig, flags=re.M)
open(sys.argv[2], "w").write((head + sep + orig).replace("bs-nosent-", "bs-lone-"))
PY
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

# lone FILE: the lone report's class and whether it has the spam run's evidence
lone() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
b = [b for b in d["bounces"] if b["message_id"].startswith("bs-lone-")]
print(" ".join("%s/%s" % (x["class"], any("same spam run" in e for e in x["evidence"])) for x in b) or "missing")' "$1"
}

bw_hook "$BW_TMP/hook1.err"
bw_expect_eq "first hook" "$rc" 0
"$BW_BIN" scan --json >"$BW_TMP/before.json" || bw_expect_eq "scan before the flood" failed ok
bw_expect_eq "alone, the report is undetermined" "$(lone "$BW_TMP/before.json")" undetermined/False

# The flood arrives; the hook keeps the stored verdicts and promotes the
# lone report in its group stage.
cp "$BW_TMP"/held/* "$BW_TMP/mail/INBOX/cur/"
notmuch new --no-hooks --quiet
export BOUNCEWATCH_DEBUG_TIMING=1
bw_hook "$BW_TMP/hook2.err"
unset BOUNCEWATCH_DEBUG_TIMING
bw_expect_eq "hook after the flood" "$rc" 0
grep -q "timing: stored+slim" "$BW_TMP/hook2.err" \
    || bw_expect_eq "hook: kept items from their entries" "$(grep -E 'stored|classify' "$BW_TMP/hook2.err")" stored+slim
grep -q "timing: classify+kept" "$BW_TMP/hook2.err" \
    || bw_expect_eq "hook: the stored verdict kept" "$(grep classify "$BW_TMP/hook2.err")" classify+kept
! grep -qE "CRITICAL|WARNING|scan failed|cannot" "$BW_TMP/hook2.err" \
    || bw_expect_eq "hook saves, no warning" "$(grep -m1 -E 'CRITICAL|WARNING|scan failed|cannot' "$BW_TMP/hook2.err")" none
# What the hook saved answers the next run with nothing new, and is a full
# rescan's.
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/after.json" 2>"$BW_TMP/after.err" \
    || bw_expect_eq "scan after the hook" failed ok
grep -q "timing: snapshot" "$BW_TMP/after.err" \
    || bw_expect_eq "the hook's state answers the next run" "$(grep timing "$BW_TMP/after.err" | head -3)" snapshot
bw_expect_eq "promoted by its spam run" "$(lone "$BW_TMP/after.json")" backscatter/True
bw_full_rescan promoted
bw_same_json "after the hook's promotion == full" "$BW_TMP/after.json" "$BW_TMP/promoted-full.json" revision
bw_done
