#!/bin/bash
# T300-signal-probe.sh: the signals core through tests/tools/bw-signal-probe
# (the measuring tool of bench/signals-eval.py) on a maildir built from the
# project's own fixtures (tests/corpus/signals): the provider's genuine
# notices are signals, the imitations are phishing, the provider's ordinary
# mail is nothing; a run the owner did not write in Sent is a sent-anomaly,
# a reply to it a human-reply, and together they make the assessment
# compromise-suspected, with advice in Japanese when the user reads
# Japanese.  Bad arguments: a one-line error and exit 2.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
PROBE=$BW_BUILDDIR/tests/tools/bw-signal-probe
[ -x "$PROBE" ] || bw_skip "bw-signal-probe not built ($PROBE)"
bw_require_cmd python3
bw_tmpdir

C="$BW_SRCDIR/tests/corpus/signals"
M="$BW_TMP/mail"
OWNER=jonas.weber@mailhost.example
mkdir -p "$M/INBOX/cur" "$M/Sent/cur"
for f in "$C"/notice-en-*.eml "$C"/notice-de-*.eml "$C"/phish-lookalike.eml "$C"/phish-forged-exact.eml \
         "$C"/phish-display.eml "$C"/ordinary-provider-*.eml "$C"/reply-*.eml; do
    cp "$f" "$M/INBOX/cur/$(basename "$f")"
done

# Sixty days of the owner's mail (Thunderbird, Berlin, daytime), then a run
# of 30 messages from the webmail at night, HTML, to strangers; the replies
# of the fixtures answer two of them.
python3 - "$M/Sent/cur" "$OWNER" <<'PY'
import sys, datetime as dt
out, owner = sys.argv[1], sys.argv[2]
t0 = dt.datetime(2026, 9, 20, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
n = 0
def write(mid, when, ua, to, ctype, extra=""):
    global n
    n += 1
    with open("%s/%04d.eml" % (out, n), "w") as f:
        f.write("Message-ID: <%s>\nDate: %s\nFrom: Jonas Weber <%s>\nTo: %s\nUser-Agent: %s\n%s"
                "Subject: hello %d\nMIME-Version: 1.0\nContent-Type: %s\n\nhello\n" % (
                    mid, when.strftime("%a, %d %b %Y %H:%M:%S %z"), owner, to, ua, extra, n % 7, ctype))
for d in range(60):
    for k in range(d % 3):
        when = t0 + dt.timedelta(days=d, hours=2 + 5 * k + d % 4)
        write("%08d-aaaa-bbbb-cccc-%012d@mailhost.example" % (d, k), when, "Mozilla Thunderbird",
              "Friend %d <friend%d@example.org>" % (k, (d + k) % 15), "text/plain; charset=UTF-8; format=flowed",
              "Content-Language: de-DE\n")
write("owner-real-1@mailhost.example", t0 + dt.timedelta(days=59, hours=3), "Mozilla Thunderbird",
      "Lena Fischer <lena@example.org>", "text/plain; charset=UTF-8; format=flowed", "Content-Language: de-DE\n")
start = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))
for i in range(30):
    mid = "a1b2c3d4e5f60718293a4b5c6d7e8f%02d@mailhost.example" % (90 + i)
    write(mid, start + dt.timedelta(minutes=3 * i), "SnappyMail/2.36.4", "stranger%d@far.example" % i,
          "multipart/alternative; boundary=x", "Bcc: s%d@far.example, t%d@far.example, u%d@far.example\n" % (i, i, i))
PY

set +e
"$PROBE" --owner "$OWNER" --json "$M" >"$BW_TMP/out.json"
rc=$?
set -e
bw_expect_eq "probe exit status" "$rc" 0
python3 - "$BW_TMP/out.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
sig = doc["signals"]
kinds = {}
for s in sig:
    kinds.setdefault(s["kind"], []).append(s)
for k in ("sign-in-alert", "password-changed", "recovery-changed", "forwarding-added", "two-factor-changed",
          "sending-blocked", "human-reply", "sent-anomaly"):
    check(k in kinds, "a %s signal" % k)
ids = {s.get("message_id") for s in sig}
for mid in ("ph1@mailhost-verify.example.com", "ph3@accounts.mailhost.example", "ph5@mail-box.example.com",
            "news-1@notify.mailhost.example", "inv-1@notify.mailhost.example"):
    check(mid not in ids, "%s is no signal" % mid)
phish = {p["message_id"]: p["tell"] for p in doc["phishing"]}
check(phish == {"ph1@mailhost-verify.example.com": "lookalike", "ph3@accounts.mailhost.example": "forged",
                "ph5@mail-box.example.com": "display"}, "the three imitations, each by its tell: %r" % phish)
run = kinds.get("sent-anomaly", [{}])[0]
check(run.get("count") == 30 and len(run.get("members", [])) == 30, "the run of 30: %r" % run.get("count"))
check(all(m.startswith("a1b2c3d4") for m in run.get("members", [])), "only the run's messages")
replies = {s["message_id"] for s in kinds.get("human-reply", [])}
check("reply-1@example.org" in replies and "reply-2@example.org" in replies, "the replies to the run: %r" % replies)
check("reply-6@example.org" not in replies, "an auto-reply is no person")
check("reply-5@example.org" not in replies, "words alone make no link")
fwd = kinds.get("forwarding-added", [{}])
check(any(f.get("facts", {}).get("address") for f in fwd), "the forwarding target named")
check(doc["assessment"]["compromise"], "compromise-suspected")
check(any("Warn the" in a for a in doc["assessment"]["advice"]), "warn the contacts")
check(len(doc["timeline"]) >= len(sig), "a timeline line per signal")
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
[ $? -eq 0 ] || bw_fail_count=$((bw_fail_count + 1))

# Japanese: the translations of po/ja.po, read from a tree built here
if command -v msgfmt >/dev/null 2>&1; then
    mkdir -p "$BW_TMP/locale/ja/LC_MESSAGES"
    msgfmt -o "$BW_TMP/locale/ja/LC_MESSAGES/bouncewatch.mo" "$BW_SRCDIR/po/ja.po"
    ja=$(BOUNCEWATCH_LOCALEDIR="$BW_TMP/locale" LC_ALL=C.UTF-8 LANGUAGE=ja "$PROBE" --owner "$OWNER" "$M" | tail -n 12)
    case "$ja" in
        *"不正に使っている可能性があります"*"転送設定を削除してください"*) ;;
        *) echo "FAIL: Japanese advice"; echo "$ja"; bw_fail_count=$((bw_fail_count + 1)) ;;
    esac
fi

# bad arguments
set +e
"$PROBE" "$M" 2>"$BW_TMP/err"; rc=$?
set -e
bw_expect_eq "no owner: exit 2" "$rc" 2
bw_expect_eq "no owner: one line" "$(wc -l <"$BW_TMP/err")" 1
bw_done
