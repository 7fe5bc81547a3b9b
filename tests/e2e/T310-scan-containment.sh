#!/bin/sh
# T310-scan-containment: a message that crashes the reader, one that hangs
# it and one a structural cap refuses, delivered beside a real flood
# (CONTAINMENT in bouncewatch(1)):
#   - hook post-new exits 0 on the run that meets them and on the next,
#     names them in its log, and the flood is tagged and alerted on the
#     same run;
#   - scan and scan --json report the flood and list them as skipped;
#   - later runs (new mail, --full) do not read them again; a new build of
#     the reader, or --retry-skipped, does; a skipped message that leaves the
#     mailbox leaves the list; incremental == full with them;
#   - parse gives the crasher an error line and reports every other file;
#   - a reader that cannot start: the hook still exits 0 and says why.
# The crash switch is the test build of the reader (BW_READER_TEST,
# -DBW_TEST_HOOKS: a Subject holding "[bw-test:crash]" crashes it); with
# BW_TEST_READER_TRACE it says on stderr which file it reads.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
[ -n "${BW_READER_TEST:-}" ] && [ -x "$BW_READER_TEST" ] \
    || bw_skip "the test build of the reader is not there (BW_READER_TEST)"
bw_tmpdir

# A copy of its own: touching it is a new reader build.
cp "$BW_READER_TEST" "$BW_TMP/reader"
export BOUNCEWATCH_READER="$BW_TMP/reader" BW_TEST_READER_TRACE=1
if [ "${BW_SANITIZED:-0}" = 1 ]; then
    export BOUNCEWATCH_READER_TIMEOUT_MS=4000
else
    export BOUNCEWATCH_READER_TIMEOUT_MS=1000
fi

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
python3 - "$BW_TMP/mail/INBOX/cur" "$BW_TMP/spare" <<'PY'
import os, sys
inbox, spare = sys.argv[1:3]
os.makedirs(spare, exist_ok=True)
def dsn(tag, mark):
    return ("From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
            "To: owner@example.org\nDate: Fri, 20 Nov 2026 10:30:00 +0000\n"
            "Subject: Undelivered Mail Returned to Sender %s\n"
            "Message-ID: <%s@mx.example.net>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
            "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
            "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
            "Final-Recipient: rfc822; %s@example.net\nAction: failed\nStatus: 5.1.1\n\n"
            "--B\nContent-Type: text/rfc822-headers\n\n"
            "From: owner@example.org\nSubject: hello\nMessage-ID: <orig-%s@example.org>\n\n"
            "--B--\n") % (mark, tag, tag, tag)
def put(d, name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
put(inbox, "1795300000.poison-crash:2,S", dsn("poison-crash", "[bw-test:crash]"))
put(inbox, "1795300001.poison-hang:2,S", dsn("poison-hang", "[bw-test:hang]"))
# The reported bomb: an Amazon SES notice whose "bounce" nests 120,000 '['.
put(inbox, "1795300002.poison-refused:2,S",
    "From: MAILER-DAEMON@email-bounces.amazonses.com\nTo: owner@example.org\n"
    "Subject: AWS Notification Message\nDate: Fri, 20 Nov 2026 10:31:00 +0000\n"
    "Message-ID: <poison-refused@email-bounces.amazonses.com>\n"
    "x-amz-sns-message-id: 0b9a1c9e-0000-4000-8000-000000000001\n"
    "Content-Type: text/plain; charset=UTF-8\n\n"
    '{"notificationType":"Bounce","bounce":' + "[" * 120000 + "]" * 120000 + "}\n")
# Mail that arrives later: a report the scan must still read.
put(spare, "1795300100.late:2,S", dsn("late-report", ""))
PY
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
# "Now" is while the flood goes on: the hook has a surge to alert about.
export BOUNCEWATCH_NOW=2026-11-20T11:30:00+00:00

read_again() {  # NAME LOG: the reader read none of the poison files
    bw_expect_eq "$1: poison not read again" "$(bw_poison_read "$2")" 0
}
jq_py() {  # FILE EXPR: a Python expression on the document `d`
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---------------------------------------------------------------- the first run
bw_hook "$BW_TMP/hook1.log"
bw_expect_eq "hook meeting the poison: exit 0" "$rc" 0
for p in poison-crash poison-hang poison-refused; do
    bw_expect_eq "hook log names $p" "$(bw_count "$BW_TMP/hook1.log" "skipped .*$p")" 1
done
bw_expect_eq "hook log: the crash" "$(bw_count "$BW_TMP/hook1.log" 'poison-crash.*crashed')" 1
bw_expect_eq "hook log: the hang" "$(bw_count "$BW_TMP/hook1.log" 'poison-hang.*took more than')" 1
bw_expect_eq "hook log: the cap" "$(bw_count "$BW_TMP/hook1.log" 'poison-refused.*BW_MAX_JSON_DEPTH')" 1
# The flood beside them, on the same run: tagged and alerted.
bw_expect_eq "flood tagged on the same run" "$(notmuch count tag:backscatter)" 40
bw_expect_eq "flood alerted on the same run" \
    "$(bw_count "$BW_TMP/hook1.log" 'reports about mail you never sent')" 1
bw_expect_eq "poison not tagged" "$(notmuch count tag:bounce and subject:bw-test)" 0

bw_hook "$BW_TMP/hook2.log"
bw_expect_eq "next hook: exit 0" "$rc" 0
read_again "next hook" "$BW_TMP/hook2.log"

# ---------------------------------------------------------------- the reports
"$BW_BIN" scan --json >"$BW_TMP/scan1.json" 2>"$BW_TMP/scan1.err" || bw_expect_eq "scan --json" failed ok
read_again "scan --json" "$BW_TMP/scan1.err"
bw_expect_eq "flood reported" "$(jq_py "$BW_TMP/scan1.json" 'len(d["bounces"])')" 43
bw_expect_eq "campaign" "$(jq_py "$BW_TMP/scan1.json" 'len(d["campaigns"])')" 1
bw_expect_eq "assessment" "$(jq_py "$BW_TMP/scan1.json" 'd["assessment"]["status"]')" spoofing
bw_expect_eq "skipped" \
    "$(jq_py "$BW_TMP/scan1.json" '" ".join(sorted(k["message_id"] + ":" + k["cause"] for k in d["skipped"]))')" \
    "poison-crash@mx.example.net:crash poison-hang@mx.example.net:timeout poison-refused@email-bounces.amazonses.com:refused"
bw_expect_eq "skipped: file and why" \
    "$(jq_py "$BW_TMP/scan1.json" 'all(k["file"].endswith(k["message_id"].split("@")[0] + ":2,S") and k["why"] for k in d["skipped"])')" True
bw_expect_eq "no skipped message is a report" \
    "$(jq_py "$BW_TMP/scan1.json" 'any("poison" in b["message_id"] for b in d["bounces"])')" False

LC_ALL=C "$BW_BIN" scan >"$BW_TMP/scan1.txt" 2>"$BW_TMP/scan1txt.err" || bw_expect_eq "scan" failed ok
bw_expect_eq "report: skipped named" "$(bw_count "$BW_TMP/scan1.txt" '3 messages could not be read')" 1
for p in poison-crash poison-hang poison-refused; do
    bw_expect_eq "report names $p" "$(bw_count "$BW_TMP/scan1.txt" "$p")" 2   # file and Message-ID
done
bw_expect_eq "report: the cap named" \
    "$(bw_count "$BW_TMP/scan1.txt" 'refused: JSON nested too deep (limit BW_MAX_JSON_DEPTH)$')" 1
bw_expect_eq "report: how to retry" "$(bw_count "$BW_TMP/scan1.txt" 'retry-skipped')" 1
bw_expect_eq "report: the flood" "$(bw_count "$BW_TMP/scan1.txt" '^Spoofing')" 1
# In Japanese (the build's catalogue; a ja_JP.UTF-8 locale built here when
# the system has none).
ja_locale() {
    if locale -a 2>/dev/null | grep -qi '^ja_JP.utf-\?8$'; then return 0; fi
    command -v localedef >/dev/null 2>&1 && [ -e /usr/share/i18n/locales/ja_JP ] || return 1
    mkdir -p "$BW_TMP/locpath"
    localedef -i ja_JP -f UTF-8 "$BW_TMP/locpath/ja_JP.UTF-8" >/dev/null 2>&1 || return 1
    export LOCPATH="$BW_TMP/locpath"
}
mkdir -p "$BW_TMP/locale/ja/LC_MESSAGES"
if command -v msgfmt >/dev/null 2>&1 &&
   msgfmt -o "$BW_TMP/locale/ja/LC_MESSAGES/bouncewatch.mo" "$BW_SRCDIR/po/ja.po" && ja_locale; then
    LC_ALL=ja_JP.UTF-8 LANGUAGE=ja BOUNCEWATCH_LOCALEDIR="$BW_TMP/locale" "$BW_BIN" scan \
        >"$BW_TMP/scan1-ja.txt" 2>/dev/null || bw_expect_eq "scan ja" failed ok
    for want in "3 件のメッセージを読み取れなかったため" "読み取りプロセスがクラッシュしました" \
                "読み取りに時間がかかりすぎました" "拒否: JSON の入れ子が深すぎます (上限 BW_MAX_JSON_DEPTH)" \
                "bouncewatch scan --retry-skipped"; do
        grep -qF -- "$want" "$BW_TMP/scan1-ja.txt" || bw_expect_eq "ja: $want" "(not found)" "$want"
    done
    unset LOCPATH
else
    echo "# no Japanese catalogue or no ja_JP.UTF-8 locale: the Japanese part is skipped"
fi

# ---------------------------------------------------------------- later runs
# New mail: only it is read.
cp "$BW_TMP"/spare/* "$BW_TMP/mail/INBOX/cur/"
notmuch new --no-hooks --quiet
bw_hook "$BW_TMP/hook3.log"
bw_expect_eq "hook with new mail: exit 0" "$rc" 0
read_again "hook with new mail" "$BW_TMP/hook3.log"
bw_expect_eq "the new mail is read" "$(bw_count "$BW_TMP/hook3.log" 'reading .*late:2,S$')" 1
bw_expect_eq "... and its facts (the signals)" "$(bw_count "$BW_TMP/hook3.log" 'reading .*late:2,S (facts)$')" 1
"$BW_BIN" scan --json >"$BW_TMP/inc.json" 2>/dev/null || bw_expect_eq "scan after new mail" failed ok
bw_expect_eq "the new report" "$(jq_py "$BW_TMP/inc.json" 'len(d["bounces"])')" 44
"$BW_BIN" scan --json --full >"$BW_TMP/full.json" 2>"$BW_TMP/full.err" || bw_expect_eq "scan --full" failed ok
read_again "scan --full" "$BW_TMP/full.err"
python3 - "$BW_TMP/inc.json" "$BW_TMP/full.json" <<'PY' || bw_expect_eq "incremental == full, skipped included" differs same
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("revision", None)
sys.exit(0 if a == b and len(a["skipped"]) == 3 else 1)
PY

# A new build of the reader reads them again (and skips them again).
touch -d '+1 minute' "$BW_TMP/reader"
"$BW_BIN" scan --json >"$BW_TMP/newbuild.json" 2>"$BW_TMP/newbuild.err" || bw_expect_eq "scan, new reader" failed ok
bw_expect_eq "new reader build reads them again" "$(bw_poison_read "$BW_TMP/newbuild.err")" 3
bw_expect_eq "... and skips them again" "$(jq_py "$BW_TMP/newbuild.json" 'len(d["skipped"])')" 3
"$BW_BIN" scan --json >/dev/null 2>"$BW_TMP/after-newbuild.err"
read_again "after the new build's run" "$BW_TMP/after-newbuild.err"
# So does --retry-skipped.
"$BW_BIN" scan --retry-skipped >/dev/null 2>"$BW_TMP/retry.err" || bw_expect_eq "scan --retry-skipped" failed ok
bw_expect_eq "--retry-skipped reads them again" "$(bw_poison_read "$BW_TMP/retry.err")" 3

# A skipped message that leaves the mailbox leaves the list.
rm "$BW_TMP"/mail/INBOX/cur/*poison-hang*
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >"$BW_TMP/gone.json" 2>/dev/null || bw_expect_eq "scan after removal" failed ok
bw_expect_eq "removed one leaves the list" \
    "$(jq_py "$BW_TMP/gone.json" '" ".join(sorted(k["cause"] for k in d["skipped"]))')" "crash refused"

# ---------------------------------------------------------------- parse
good=$(ls "$BW_TMP"/mail/INBOX/cur/* | grep -v poison | head -n 3)
crash=$(ls "$BW_TMP"/mail/INBOX/cur/*poison-crash*)
rc=0
# shellcheck disable=SC2086 # file names without spaces, word-split on purpose
"$BW_BIN" parse --json $(echo "$good" | head -n 1) "$crash" $(echo "$good" | tail -n 2) \
    >"$BW_TMP/parse.out" 2>"$BW_TMP/parse.err" || rc=$?
bw_expect_eq "parse batch with a crasher: exit 1" "$rc" 1
python3 - "$BW_TMP/parse.out" <<'PY' || bw_expect_eq "parse: every other file reported, the crasher has an error line" no yes
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = len(lines) == 4 and "poison-crash" in lines[1]["file"] and "crashed" in (lines[1]["error"] or "")
ok = ok and all(l["error"] is None for i, l in enumerate(lines) if i != 1)
sys.exit(0 if ok else 1)
PY
bw_expect_eq "parse: the crasher on stderr" "$(bw_count "$BW_TMP/parse.err" 'poison-crash.*skipped')" 1

# ---------------------------------------------------------------- which reader
# make check names the build's reader (BOUNCEWATCH_READER: the tests copy
# the program elsewhere); without it, bouncewatch in its build tree uses the
# reader built next to it.
if [ -x "$(dirname "$BW_BIN")/bouncewatch-reader" ]; then
    rc=0
    env -u BOUNCEWATCH_READER "$BW_BIN" parse --json "$crash" >/dev/null 2>"$BW_TMP/near.err" || rc=$?
    bw_expect_eq "the reader next to the program reads (no crash switch there)" "$rc" 0
fi

# doctor checks the reader.
"$BW_BIN" doctor >"$BW_TMP/doctor.out" 2>&1 || true
bw_expect_eq "doctor: the reader starts" "$(bw_count "$BW_TMP/doctor.out" '^OK .*mail reader .* starts')" 1
BOUNCEWATCH_READER=/nonexistent/bouncewatch-reader "$BW_BIN" doctor >"$BW_TMP/doctor2.out" 2>&1 || true
bw_expect_eq "doctor: no reader" \
    "$(bw_count "$BW_TMP/doctor2.out" '^PROBLEM .*mail reader cannot run.*nonexistent.*reinstall')" 1

# ---------------------------------------------------------------- no reader at all
cp "$BW_TMP"/spare/*late* "$BW_TMP/mail/INBOX/cur/again-late:2,S"
sed -i 's/late-report@/late-report-2@/' "$BW_TMP/mail/INBOX/cur/again-late:2,S"
notmuch new --no-hooks --quiet
BOUNCEWATCH_READER=/nonexistent/bouncewatch-reader
bw_hook "$BW_TMP/noreader.log"
BOUNCEWATCH_READER="$BW_TMP/reader"
bw_expect_eq "no reader: hook exit 0" "$rc" 0
bw_expect_eq "no reader: logged" "$(bw_count "$BW_TMP/noreader.log" 'cannot read the \(new \)\?mail')" 1
# Nothing was saved: the next run with a reader reads the new mail.
bw_hook "$BW_TMP/hook4.log"
bw_expect_eq "after: the new mail is read" "$(bw_count "$BW_TMP/hook4.log" 'reading .*again-late:2,S$')" 1

bw_done
