#!/bin/sh
# T311-scan-hostile: every hostile input of T090 (tests/e2e/hostile-inputs.py:
# deep and wide JSON, address, comment, list, parameter and RFC 2231 bombs,
# huge encoded-word headers, a long date, nested multiparts, garbage, NULs,
# 100,000 recipients, sane mail near each cap) delivered together into a
# mailbox that holds a real flood (but for those notmuch itself cannot
# index), plus flood bounces whose attached original (the forger's own
# headers) carries a comment, list or encoded-word bomb (issue 7):
#   - hook post-new exits 0 on the run that meets them and on the next;
#   - scan --json and scan exit 0 and still report the flood: every flood
#     bounce is backscatter, one campaign holds them, the status is spoofing;
#   - a bounce refused for a bomb in its original is not invisible: it is in
#     `skipped` (cause refused, the cap named) and in the human report;
#   - the parser handles all of it itself: nothing is skipped as a crash, a
#     hang or garbage (the reader's containment is for bugs, not for these).
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
if [ "${BW_SANITIZED:-0}" = 1 ]; then
    export BOUNCEWATCH_READER_TIMEOUT_MS=60000
fi

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
mkdir -p "$BW_TMP/hostile"
python3 "$BW_SRCDIR/tests/e2e/hostile-inputs.py" "$BW_TMP/hostile" --small
python3 - "$BW_TMP/hostile" "$BW_TMP/mail/INBOX/cur" "$BW_TMP/delivered" <<'PY'
import glob, os, re, sys
hostile, inbox = sys.argv[1:3]
# Every single message (an mbox is no maildir message) goes in as it is,
# except the ones notmuch itself cannot index (0.37 with GMime 3.2: nested
# address groups in the message's or an attached message's To make
# `notmuch new` die with SIGSEGV, 100,000 list items or encoded words keep
# it busy for minutes): they never reach the database bouncewatch reads.
# Several share a Message-ID, and notmuch keeps one message per id: each
# gets its own (in its header, when it has one there).
NOTMUCH_CANNOT = ("24-", "25-", "26-", "28-", "31-")
n = 0
delivered = open(sys.argv[3], "w")
for path in sorted(glob.glob(os.path.join(hostile, "*"))):
    name = os.path.basename(path)
    if path.endswith(".mbox") or name.startswith(NOTMUCH_CANNOT):
        continue
    with open(path, "rb") as f:
        data = f.read()
    n += 1
    head, sep, body = data.partition(b"\n\n")
    head = re.sub(rb"^Message-ID: <", b"Message-ID: <hostile-%d-" % n, head, count=1, flags=re.M | re.I)
    file = "1795400%03d.hostile-%d:2,S" % (n, n)
    with open(os.path.join(inbox, file), "wb") as f:
        f.write(head + sep + body)
    delivered.write("%s %s\n" % (file, name.encode("utf-8", "surrogateescape").decode("ascii", "replace")))
delivered.close()
# Three flood bounces again, under their own Message-ID, with a bomb in the
# To of the original they return (written by whoever forged the owner's
# address), one per cap that guards the original's headers.
BOMBS = [b"To: anna@mail.example.ru " + b"(" * 100000,
         b"To: " + b",".join(b"a%d@mail.example.ru" % i for i in range(3000)),
         b"To: " + b" ".join(b"=?koi8-r?B?gg==?=" for i in range(600)) + b" <anna@mail.example.ru>"]
flood = []
for path in sorted(glob.glob(os.path.join(inbox, "*"))):
    with open(path, "rb") as f:
        data = f.read()
    if re.search(rb"^Message-ID: <bs-flood-\d+@", data, re.M) and b"message/rfc822" in data:
        flood.append(data)
assert len(flood) >= 3, "the flood fixture changed: no bounce with an attached original"
for i, data in enumerate(flood[:3]):
    data = re.sub(rb"^Message-ID: <bs-flood-(\d+)@", rb"Message-ID: <forged-bomb-%d-\1@" % i, data, count=1, flags=re.M)
    head, sep, original = data.partition(b"Content-Type: message/rfc822\n")
    original = re.sub(rb"^To: .*$", lambda m: BOMBS[i], original, count=1, flags=re.M)
    with open(os.path.join(inbox, "1795500%03d.forged-bomb-%d:2,S" % (i, i)), "wb") as f:
        f.write(head + sep + original)
PY
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
export BOUNCEWATCH_NOW=2026-11-20T11:30:00+00:00
flood_ids=$(grep -h -o '^Message-ID: <bs-flood-[0-9]*@[^>]*>' "$BW_TMP"/mail/*/cur/* | sed 's/^Message-ID: <//; s/>$//' | sort -u)
[ -n "$flood_ids" ] || bw_expect_eq "the flood fixture has bounces" none some
echo "$flood_ids" >"$BW_TMP/flood-ids"

bw_hook "$BW_TMP/hook1.log"
bw_expect_eq "hook meeting the hostile mail: exit 0" "$rc" 0
flood_query=$(sed 's/^/id:/' "$BW_TMP/flood-ids" | paste -s -d ' ' - | sed 's/ / or /g')
bw_expect_eq "flood tagged on the same run" \
    "$(notmuch count "tag:backscatter and ($flood_query)")" "$(wc -l <"$BW_TMP/flood-ids")"
bw_expect_eq "the forged bombs are named in the hook's log" "$(bw_count "$BW_TMP/hook1.log" 'skipped .*forged-bomb-.*limit BW_MAX_')" 3
bw_hook "$BW_TMP/hook2.log"
bw_expect_eq "next hook: exit 0" "$rc" 0

rc=0
"$BW_BIN" scan --json >"$BW_TMP/scan.json" 2>"$BW_TMP/scan.err" || rc=$?
bw_expect_eq "scan --json: exit 0" "$rc" 0
python3 - "$BW_TMP/scan.json" "$BW_TMP/flood-ids" "$BW_TMP/delivered" <<'PY' || bw_expect_eq "scan --json: the flood reported, the bombs skipped and named" no yes
import json, os, re, sys
d = json.load(open(sys.argv[1]))
flood = set(open(sys.argv[2]).read().split())
problems = []
backscatter = {b["message_id"] for b in d["bounces"] if b.get("class") == "backscatter"}
missing = flood - backscatter
if missing:
    problems.append("flood bounces not reported as backscatter: %d of %d" % (len(missing), len(flood)))
if not any(flood <= set(c.get("members", [])) for c in d["campaigns"]):
    problems.append("no campaign holds the whole flood")
if d["assessment"]["status"] != "spoofing":
    problems.append("status %r, not spoofing" % d["assessment"]["status"])
skipped = {k["message_id"]: k for k in d.get("skipped", [])}
for i, cap in enumerate(["BW_MAX_ADDRESS_COMMENT_DEPTH", "BW_MAX_ADDRESSES", "BW_MAX_ENCODED_WORDS"]):
    k = [v for m, v in skipped.items() if m.startswith("forged-bomb-%d-" % i)]
    if len(k) != 1 or k[0]["cause"] != "refused" or "(limit %s)" % cap not in k[0]["why"]:
        problems.append("forged-bomb-%d: not skipped as refused with its cap named: %r" % (i, k))
for m, k in skipped.items():
    if k["cause"] != "refused":
        problems.append("%s skipped as %s (%s): the parser must handle it" % (m, k["cause"], k["why"]))
    elif not re.search(r"\(limit BW_MAX_[A-Z0-9_]+\)", k["why"]):
        problems.append("%s refused without naming its cap: %s" % (m, k["why"]))
# The bombs of hostile-inputs.py that notmuch indexes and scan reads (the
# candidate query takes delivery reports; the SES notices of T090 are sent
# by no-reply@sns.amazonaws.com and are no candidates: T310 has its own).
refused_files = {os.path.basename(k["file"]) for k in skipped.values() if k["cause"] == "refused"}
for line in open(sys.argv[3]):
    file, name = line.split(" ", 1)
    if name.startswith(("27-", "29-", "30-", "32-")) and file not in refused_files:
        problems.append("%s (%s) is not skipped as refused" % (name.strip(), file))
if any(b["message_id"].startswith("forged-bomb-") for b in d["bounces"]):
    problems.append("a refused bounce is also a report")
for p in problems:
    print("FAIL: " + p)
sys.exit(1 if problems else 0)
PY

rc=0
LC_ALL=C "$BW_BIN" scan >"$BW_TMP/scan.txt" 2>/dev/null || rc=$?
bw_expect_eq "scan: exit 0" "$rc" 0
bw_expect_eq "report: the flood" "$(bw_count "$BW_TMP/scan.txt" '^Spoofing')" 1
bw_expect_eq "report: the forged bombs named" "$(bw_count "$BW_TMP/scan.txt" '<forged-bomb-[0-9]-[0-9]*@')" 3
bw_expect_eq "report: their caps named" "$(bw_count "$BW_TMP/scan.txt" '<forged-bomb-.*refused: .* (limit BW_MAX_[A-Z0-9_]*)$')" 3
bw_done
