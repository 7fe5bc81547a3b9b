#!/bin/sh
# T312-scan-containment-signals: the signals' reads and the profile's go
# through the reader process too (CONTAINMENT in bouncewatch(1)).  A quiet
# takeover (tests/fixtures/make-takeover-mailbox.py: signals, a run in
# Sent, its reports) beside messages that break the reader in the reads a
# scan makes besides the bounce parse:
#   - received mail whose facts read (what the signals judge) crashes the
#     reader, hangs it, or makes it answer JSON nested past the cap;
#   - the owner's sent mail whose summary read (the runs in Sent) crashes
#     it, and whose header read for the profile crashes it or answers text
#     that is not UTF-8.
# Each is skipped on the run that meets it, named in the hook's log, the
# report and scan --json; the hook exits 0; the signals and the run's
# reports are still all there; later runs (a full one too) do not read
# them again; incremental == full.
# The switches are the test build of the reader (BW_READER_TEST): a
# message holding "[bw-test:WHAT@KIND]" does WHAT in the KIND read only
# (facts, summary, headers).
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
[ -n "${BW_READER_TEST:-}" ] && [ -x "$BW_READER_TEST" ] \
    || bw_skip "the test build of the reader is not there (BW_READER_TEST)"
bw_tmpdir

export BOUNCEWATCH_READER="$BW_READER_TEST" BW_TEST_READER_TRACE=1
if [ "${BW_SANITIZED:-0}" = 1 ]; then
    export BOUNCEWATCH_READER_TIMEOUT_MS=4000
else
    export BOUNCEWATCH_READER_TIMEOUT_MS=1000
fi
export XDG_DATA_HOME="$BW_TMP/data"
MAKE="$BW_SRCDIR/tests/fixtures/make-takeover-mailbox.py"
eval "$(python3 "$MAKE" x --print-times)"   # before, hijack_end, now
python3 "$MAKE" "$BW_TMP/mail"
python3 - "$BW_TMP/mail" "$before" <<'PY'
import datetime as dt, os, sys
root, before = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2])
def put(folder, name, text, days):
    t = before - dt.timedelta(days=days)
    d = os.path.join(root, folder, "cur")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "%d.%s:2,S" % (int(t.timestamp()), name))
    with open(p, "w") as f:
        f.write(text % {"date": t.strftime("%a, %d %b %Y %H:%M:%S +0000")})
    os.utime(p, (t.timestamp(), t.timestamp()))
def received(name, switch, days):
    put("INBOX", name,
        "Received: from mail.example.net (mail.example.net [192.0.2.77])\n"
        "\tby mx.mailhost.example (Postfix) with ESMTPS id 77%s\n"
        "\tfor <jonas.weber@mailhost.example>; %%(date)s\n"
        "From: Anna Berg <anna@example.net>\nTo: jonas.weber@mailhost.example\n"
        "Subject: Photos from the trip %s\nDate: %%(date)s\n"
        "Message-ID: <%s@example.net>\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n\nHere they are.\n" % (len(name), switch, name),
        days)
def sent(name, switch, days):
    put("Sent", name,
        "Received: from [192.168.1.20] (dsl-77-1-2-3.isp.example.de [77.1.2.3])\n"
        "\tby smtp.mailhost.example with ESMTPSA id 4A1B\n\tfor <anna@example.net>; %%(date)s\n"
        "From: Jonas Weber <jonas.weber@mailhost.example>\nTo: <anna@example.net>\n"
        "Subject: Re: the trip %s\nDate: %%(date)s\nMessage-ID: <%s@mailhost.example>\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8; format=flowed\n\n"
        "Hallo,\n\nbis bald.\n\nJonas\n" % (switch, name), days)
received("poison-facts-crash", "[bw-test:crash@facts]", 9)
received("poison-facts-hang", "[bw-test:hang@facts]", 9)
received("poison-facts-garbage", "[bw-test:badjson@facts]", 9)
sent("poison-summary-crash", "[bw-test:crash@summary]", 8)
sent("poison-headers-crash", "[bw-test:crash@headers]", 8)
sent("poison-headers-garbage", "[bw-test:badutf8@headers]", 8)
PY
bw_notmuch_setup "$BW_TMP/mail" jonas.weber@mailhost.example
export BOUNCEWATCH_NOW=$now

jq_py() {  # FILE EXPR: a Python expression on the document `d`
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
POISON="poison-facts-crash poison-facts-hang poison-facts-garbage poison-summary-crash
poison-headers-crash poison-headers-garbage"

# ---------------------------------------------------------------- the first run
bw_hook "$BW_TMP/hook1.log"
bw_expect_eq "hook meeting the poison: exit 0" "$rc" 0
for p in $POISON; do
    bw_expect_eq "hook log names $p" "$(bw_count "$BW_TMP/hook1.log" "skipped .*$p")" 1
done
bw_expect_eq "hook log: the facts crash" "$(bw_count "$BW_TMP/hook1.log" 'poison-facts-crash.*crashed')" 1
bw_expect_eq "hook log: the facts hang" "$(bw_count "$BW_TMP/hook1.log" 'poison-facts-hang.*took more than')" 1
bw_expect_eq "hook log: the damaged facts" "$(bw_count "$BW_TMP/hook1.log" 'poison-facts-garbage.*garbage')" 1
bw_expect_eq "hook log: the summary crash" "$(bw_count "$BW_TMP/hook1.log" 'poison-summary-crash.*crashed')" 1
bw_expect_eq "hook log: the headers crash" "$(bw_count "$BW_TMP/hook1.log" 'poison-headers-crash.*crashed')" 1
bw_expect_eq "hook log: the damaged headers" "$(bw_count "$BW_TMP/hook1.log" 'poison-headers-garbage.*garbage')" 1
bw_expect_eq "the run's reports tagged on the same run" "$(notmuch count tag:backscatter)" 7
bw_expect_eq "the signals tagged on the same run" "$(notmuch count tag:bw/signal)" 54

bw_hook "$BW_TMP/hook2.log"
bw_expect_eq "next hook: exit 0" "$rc" 0
bw_expect_eq "next hook: poison not read again" "$(bw_poison_read "$BW_TMP/hook2.log")" 0

# ---------------------------------------------------------------- the reports
"$BW_BIN" scan --json >"$BW_TMP/scan.json" 2>"$BW_TMP/scan.err" || bw_expect_eq "scan --json" failed ok
bw_expect_eq "scan --json: poison not read again" "$(bw_poison_read "$BW_TMP/scan.err")" 0
bw_expect_eq "skipped" \
    "$(jq_py "$BW_TMP/scan.json" '" ".join(sorted(k["message_id"].split("@")[0] + ":" + k["cause"] for k in d["skipped"]))')" \
    "poison-facts-crash:crash poison-facts-garbage:garbage poison-facts-hang:timeout poison-headers-crash:crash poison-headers-garbage:garbage poison-summary-crash:crash"
bw_expect_eq "skipped: file and why" \
    "$(jq_py "$BW_TMP/scan.json" 'all(k["file"].endswith(k["message_id"].split("@")[0] + ":2,S") and k["why"] for k in d["skipped"])')" True
check=$(jq_py "$BW_TMP/scan.json" '"%s|%s|%d|%d" % (" ".join(sorted(s["kind"] for s in d["signals"])), d["assessment"]["status"], max([len(s["members"]) for s in d["signals"] if s["kind"] == "sent-anomaly"] or [0]), sum(1 for b in d["bounces"] if b["class"] == "backscatter"))')
bw_expect_eq "signals, status, run, reports" "$check" \
    "human-reply human-reply human-reply sending-blocked sent-anomaly sign-in-alert two-factor-changed|compromise-suspected|48|7"

LC_ALL=C "$BW_BIN" scan >"$BW_TMP/scan.txt" 2>/dev/null || bw_expect_eq "scan" failed ok
bw_expect_eq "report: skipped named" "$(bw_count "$BW_TMP/scan.txt" '6 messages could not be read')" 1
for p in $POISON; do
    bw_expect_eq "report names $p" "$(bw_count "$BW_TMP/scan.txt" "$p")" 2   # file and Message-ID
done
bw_expect_eq "report: signs about the account" "$(bw_count "$BW_TMP/scan.txt" 'Signs about your account')" 1

# ---------------------------------------------------------------- later runs
"$BW_BIN" scan --json --full >"$BW_TMP/full.json" 2>"$BW_TMP/full.err" || bw_expect_eq "scan --full" failed ok
bw_expect_eq "scan --full: poison not read again" "$(bw_poison_read "$BW_TMP/full.err")" 0
"$BW_BIN" scan --json >"$BW_TMP/inc.json" 2>/dev/null || bw_expect_eq "scan after --full" failed ok
python3 - "$BW_TMP/scan.json" "$BW_TMP/full.json" "$BW_TMP/inc.json" <<'PY' || bw_expect_eq "incremental == full, skipped included" differs same
import json, sys
docs = [json.load(open(p)) for p in sys.argv[1:4]]
for d in docs:
    d.pop("revision", None)
ok = all(d == docs[0] for d in docs) and len(docs[0]["skipped"]) == 6
if not ok:
    for k in sorted(docs[0]):
        if any(d.get(k) != docs[0].get(k) for d in docs):
            print("  differs: %s" % k)
sys.exit(0 if ok else 1)
PY

# --retry-skipped reads them again (and skips them again).
"$BW_BIN" scan --json --retry-skipped >"$BW_TMP/retry.json" 2>"$BW_TMP/retry.err" ||
    bw_expect_eq "scan --retry-skipped" failed ok
bw_expect_eq "--retry-skipped: still skipped" "$(jq_py "$BW_TMP/retry.json" 'len(d["skipped"])')" 6

bw_done
