#!/bin/bash
# T090-hostile.sh: `bouncewatch parse --json` on hostile input.
#
# Mail is attacker-written.  Each input below must give a result or a clear
# error line, in bounded time and memory, and must not stop the rest of the
# batch from being reported (shared/SPEC.md section 1: every input gets its
# line, in order, and the exit status is 1 when one of them is an error).
# The inputs are generated here, in a temporary directory, at test time:
#   empty file, binary garbage, a 50 MB message, a message over the 64 MiB
#   limit, 10,000 nested multiparts, a 1 MB header line, an invalid charset,
#   truncated base64, a report whose original is itself, a 1 MB single-line
#   body, NUL bytes, an mbox with a broken message in the middle, 100,000
#   recipients in one DSN, oversized input on stdin; a bomb past each
#   structural cap of bw.h (deep and wide JSON, nested address groups and
#   comments, address lists, MIME parameters and RFC 2231 sections, encoded
#   words per field and per message), each refused with the cap named, and
#   sane mail near the same caps, read in full (a long date is a size: no
#   date, the rest read); read errors (a FIFO, /proc/self/mem); an mbox
#   with damaged messages (an error line each, at its own index);
# plus every reproducer kept under tests/fuzz/crashes/parse/ (mail the parse fuzzer flagged).
# A good DSN comes last: its line must be there and correct.
#
# Environment: BW_BIN, BW_SRCDIR (from make check).  BW_SANITIZED=1 (set by
# .ci/run's ASan build) lifts the address-space limit, which ASan cannot run
# under, and stretches the time limits.
set -euo pipefail

BW_BIN=${BW_BIN:-}
BW_SRCDIR=${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "$BW_BIN" ] || [ ! -x "$BW_BIN" ]; then
    echo "SKIP: bouncewatch binary not built (BW_BIN='$BW_BIN')"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 not found (it generates the inputs and checks the JSON)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-hostile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Limits.  The 50 MB message dominates: GMime holds it in memory while it
# parses, the core scans at most BW_MAX_SCAN_BYTES of each part.
TIME_LIMIT=60          # seconds for the whole batch
FILE_TIME_LIMIT=20     # seconds for any single input
VMEM_LIMIT_KB=$((2048 * 1024))
RSS_LIMIT_KB=$((768 * 1024))
if [ "${BW_SANITIZED:-0}" = 1 ]; then
    TIME_LIMIT=600
    FILE_TIME_LIMIT=300
    RSS_LIMIT_KB=$((3072 * 1024))
fi

fail=0
failmsg() { echo "FAIL: $*"; fail=1; }

# ---------------------------------------------------------------- inputs
python3 - "$tmp" <<'PYEOF'
import os, random, sys, base64

d = sys.argv[1]
rnd = random.Random(20261128)          # deterministic garbage

def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

HDR = (b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
       b"To: owner@example.com\n"
       b"Date: Thu, 19 Nov 2026 09:12:44 +0900\n")

def dsn(msgid, rcpt, original_msgid, boundary=b"BOUNDARY", extra=b""):
    return (HDR +
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"Message-ID: <" + msgid + b">\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: multipart/report; report-type=delivery-status;\n"
        b"\tboundary=\"" + boundary + b"\"\n\n"
        b"--" + boundary + b"\nContent-Type: text/plain\n\n"
        b"Your message could not be delivered.\n\n"
        b"--" + boundary + b"\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example.org\n\n"
        b"Final-Recipient: rfc822; " + rcpt + b"\n"
        b"Action: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <" + rcpt + b">: User unknown\n" + extra + b"\n"
        b"--" + boundary + b"\nContent-Type: text/rfc822-headers\n\n"
        b"From: owner@example.com\nTo: " + rcpt + b"\n"
        b"Subject: hello\nMessage-ID: <" + original_msgid + b">\n\n"
        b"--" + boundary + b"--\n")

# 01 empty file
w("01-empty.eml", b"")
# 02 binary garbage (no header structure at all, NULs and high bytes)
w("02-garbage.bin", bytes(rnd.getrandbits(8) for _ in range(65536)))
# 03 a 50 MB message: a DSN whose attached original carries a 50 MB
#    base64 attachment (the size real mail reaches), below the 64 MiB limit
with open(os.path.join(d, "03-50mb.eml"), "wb") as f:
    f.write(HDR + b"Subject: Undelivered Mail Returned to Sender\n"
            b"Message-ID: <big@mx.example.org>\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
            b"--B\nContent-Type: message/delivery-status\n\n"
            b"Reporting-MTA: dns; mx.example.org\n\n"
            b"Final-Recipient: rfc822; big@example.net\nAction: failed\nStatus: 5.3.4\n\n"
            b"--B\nContent-Type: message/rfc822\n\n"
            b"From: owner@example.com\nTo: big@example.net\nSubject: the big one\n"
            b"Message-ID: <bigoriginal@example.com>\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=\"I\"\n\n"
            b"--I\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n")
    line = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(57))) + b"\n"
    for _ in range((50 * 1000 * 1000) // len(line)):
        f.write(line)
    f.write(b"--I--\n--B--\n")
# 04 past BW_MAX_MESSAGE_BYTES (64 MiB): must be refused with an error line
with open(os.path.join(d, "04-too-large.eml"), "wb") as f:
    f.write(b"From: a@example.org\nSubject: huge\n\n")
    chunk = (b"x" * 99 + b"\n") * 10000
    for _ in range((65 << 20) // len(chunk) + 1):
        f.write(chunk)
# 05 10,000 nested multiparts
depth = 10000
parts = [HDR + b"Subject: nested\nMIME-Version: 1.0\n"]
for i in range(depth):
    parts.append(b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i))
parts.append(b"Content-Type: text/plain\n\ninnermost\n")
for i in reversed(range(depth)):
    parts.append(b"--b%d--\n" % i)
w("05-nested.eml", b"".join(parts))
# 06 a 1 MB header line (unfolded Subject), then a normal DSN body
w("06-long-header.eml",
  b"Subject: " + b"A" * (1 << 20) + b"\n" + dsn(b"lh@mx.example.org", b"lh@example.net", b"lh@example.com"))
# 07 invalid charsets: in the body, in RFC 2047 words, in the DSN part
w("07-bad-charset.eml",
  HDR + b"Subject: =?x-no-such-charset?B?//79/A==?= =?utf-8?Q?=FF=FE?=\n"
  b"Message-ID: <cs@mx.example.org>\nMIME-Version: 1.0\n"
  b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"C\"\n\n"
  b"--C\nContent-Type: text/plain; charset=\"x-no-such-charset\"\n\n\xff\xfe\x80 bad bytes\n"
  b"--C\nContent-Type: message/delivery-status; charset=\"\x01\x02\"\n\n"
  b"Final-Recipient: rfc822; cs@example.net\nAction: failed\nStatus: 5.1.1\n"
  b"Diagnostic-Code: smtp; 550 \xff\xfe unknown \x1b$B user\n\n"
  b"--C--\n")
# 08 truncated base64 (mid-quantum, then the message simply ends)
w("08-truncated-base64.eml",
  HDR + b"Subject: Delivery Status Notification (Failure)\nMessage-ID: <tb@mx.example.org>\n"
  b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"T\"\n\n"
  b"--T\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
  b"VGhpcyBpcyB0aGUgbWFpbCBzeXN0ZW0gYXQgaG9zdCBteC5leGFtcGxlLm9yZy4K\n"
  b"--T\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
  + base64.b64encode(b"Final-Recipient: rfc822; tb@example.net\nAction: failed\nStatus: 5.1.1\n")[:37])
# 09 a report pointing at itself: the original's Message-ID is the report's
w("09-self-report.eml", dsn(b"loop@mx.example.org", b"loop@example.net", b"loop@mx.example.org"))
# 10 a 1 MB single-line body
w("10-long-line.eml", HDR + b"Subject: failure notice\nMessage-ID: <ll@mx.example.org>\n\n"
  + b"Hi. This is the qmail-send program. " + b"z" * (1 << 20) + b"\n")
# 11 NUL bytes in headers and body
w("11-nul.eml", HDR.replace(b"MAILER", b"MAIL\0ER") +
  b"Subject: Undelivered\0Mail\nMessage-ID: <nul@mx.example\0.org>\n\n"
  b"<nul@example.net>: 550 5.1.1\0 User unknown\n" + b"\0" * 4096)
# 12 an mbox with a broken message in the middle
good1 = dsn(b"m1@mx.example.org", b"first@example.net", b"o1@example.com")
bad = (b"Content-Type: multipart/report; boundary=\"never-closed\"\n"
       b"Content-Transfer-Encoding: base64\n\n--never-closed\n\0\0\xff\xfe" + b"=" * 3000 + b"\n")
good3 = dsn(b"m3@mx.example.org", b"third@example.net", b"o3@example.com")
w("12-broken.mbox",
  b"From MAILER-DAEMON Thu Nov 19 00:00:00 2026\n" + good1 + b"\n"
  b"From MAILER-DAEMON Thu Nov 19 00:00:01 2026\n" + bad + b"\n"
  b"From MAILER-DAEMON Thu Nov 19 00:00:02 2026\n" + good3)
# 13 one DSN naming 100,000 recipients (the core keeps BW_MAX_RECIPIENTS)
rcpts = b"".join(b"Final-Recipient: rfc822; r%d@example.net\nAction: failed\nStatus: 5.1.1\n\n" % i
                 for i in range(100000))
w("13-many-recipients.eml",
  HDR + b"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <many@mx.example.org>\n"
  b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"M\"\n\n"
  b"--M\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
  + rcpts + b"--M--\n")
# 14 a file name that is not UTF-8 (maildir names are bytes): the "file"
#    member must still be valid JSON text
w(b"14-bad-name-\xff\xfe.eml".decode("utf-8", "surrogateescape"),
  dsn(b"bn@mx.example.org", b"bn@example.net", b"bn@example.com"))
# 20-39: structural bombs past a cap of bw.h (caps.c): each must be refused
# with an error line naming the cap (REFUSED below); and sane inputs near
# the same caps, which must still be read in full (SANE below).
def ses(json):
    return (b"From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
            b"To: ops@example.org\nSubject: AWS Notification Message\n"
            b"Date: Mon, 3 Mar 2025 10:00:12 +0000\n"
            b"x-amz-sns-message-id: 0b9a1c9e-0000-4000-8000-000000000001\n"
            b"Content-Type: text/plain; charset=UTF-8\n\n" + json +
            b"\n\n--\nIf you wish to stop receiving notifications from this topic, unsubscribe:\n"
            b"https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn=arn:aws:sns:0:b\n")
def ses_bounce(recipients, extra=b""):
    return (b'{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
            b'"bouncedRecipients":[' + recipients + b'],"reportingMTA":"dsn; a1.amazonses.com"' + extra +
            b'},"mail":{"source":"ops@example.org","commonHeaders":{"from":["ops@example.org"],'
            b'"to":["mia@example.com"],"messageId":"<ses1@example.org>","subject":"welcome"}}}')
def ses_rcpt(a):
    return (b'{"emailAddress":"' + a + b'","action":"failed","status":"5.1.1",'
            b'"diagnosticCode":"smtp; 550 5.1.1 user unknown"}')
# 20 the reported crash: 120,000 nested '[' (240 KB) as the "bounce" value
w("20-json-deep.eml", ses(b'{"notificationType":"Bounce","bounce":' + b"[" * 120000 + b"]" * 120000 + b"}"))
# 21 100,000 values in one array (wide), under the 256 KiB read
w("21-json-wide.eml", ses(ses_bounce(b",".join([b"0"] * 100000))))
# 22 sane: nested to the depth cap, and 1,000 recipients
w("22-json-sane-deep.eml", ses(ses_bounce(ses_rcpt(b"deep@example.net"), b',"x":' + b"[" * 62 + b"]" * 62)))
w("23-json-sane-wide.eml", ses(ses_bounce(b",".join(ses_rcpt(b"r%d@example.net" % i) for i in range(1000)))))
def dsn_frame(report_headers=b"To: owner@example.com\n", text_ct=b"text/plain", original_headers=b"To: caps@example.net\n"):
    return (b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n" + report_headers +
            b"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <caps@mx.example.org>\n"
            b"MIME-Version: 1.0\n"
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
            b"--B\nContent-Type: " + text_ct + b"\n\nYour message could not be delivered.\n\n"
            b"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
            b"Final-Recipient: rfc822; caps@example.net\nAction: failed\nStatus: 5.1.1\n\n"
            b"--B\nContent-Type: message/rfc822\n\nFrom: owner@example.com\n" + original_headers +
            b"Subject: hello\nMessage-ID: <caps-original@example.com>\n\nbody\n--B--\n")
def notice_frame(original_headers):
    # no delivery-status part: the vendor tables read it, and hand the
    # original's To to GMime
    return (b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\nTo: owner@example.com\n"
            b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=\"B\"\n\n"
            b"--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.org.\n\n"
            b"I'm sorry to have to inform you that your message could not\n"
            b"be delivered to one or more recipients.\n\n<caps@example.net>: host mx.example.net said: 550 5.1.1 unknown\n\n"
            b"--B\nContent-Type: message/rfc822\n\nFrom: owner@example.com\n" + original_headers +
            b"Subject: hello\n\nbody\n--B--\n")
# 24-26 address groups: 100,000 nested (GMime recursed per level until the
#    stack overflowed), in an attached original read by GMime, in the
#    report's own To, in a headers-only original
w("24-group-bomb-attached.eml", notice_frame(b"To: " + b"g:" * 100000 + b"\n"))
w("25-group-bomb-report.eml", dsn_frame(report_headers=b"To: " + b"g:" * 100000 + b"\n"))
w("26-group-bomb-original.eml", dsn_frame(original_headers=b"To: " + b"g:" * 100000 + b"\n"))
# 27 comments nested 100,000 deep
w("27-comment-bomb.eml", dsn_frame(original_headers=b"To: caps@example.net " + b"(" * 100000 + b"\n"))
# 28 100,000 local parts in one list (GMime's time grows with the square)
w("28-address-list-bomb.eml", notice_frame(b"To: " + b"a," * 100000 + b"\n"))
# 29 100,000 MIME parameters; 30 RFC 2231 sections numbered in the millions
w("29-param-bomb.eml", dsn_frame(text_ct=b"text/plain" + b";\n p=v" * 100000))
w("30-rfc2231-bomb.eml", dsn_frame(text_ct=b"text/plain; charset=us-ascii" +
                                   b"".join(b";\n name*%d=x" % (i * 1000000) for i in range(40))))
# 31 100,000 encoded words in alternating charsets in one Subject; 32 three
#    fields just under the per-field cap (the message's total)
cs = [b"koi8-r", b"iso-8859-1", b"shift_jis", b"euc-jp"]
words = lambda n: b"".join(b" =?" + cs[i % 4] + b"?B?gg==?=" for i in range(n))
w("31-encoded-words-bomb.eml", b"From: MAILER-DAEMON@mx.example.org\nTo: owner@example.com\nSubject:" +
  words(100000) + b"\n\n<caps@example.net>: 550 5.1.1 User unknown\n")
w("32-encoded-words-total.eml", notice_frame(b"To:" + words(512) + b"\nSubject:" + words(512) +
                                             b"\nMessage-ID: <w@example.com>\n"))
# 33 a 100 KB Date header: a size, not a structure: no date, the rest read
w("33-long-date.eml", dsn_frame(report_headers=b"To: owner@example.com\nDate: Thu, 19 Nov 2026 09:12:44 +0900" +
                                b" 12:00:00" * 11000 + b"\n"))
# 34-37 sane mail near the same caps: a group list and a two-level comment,
#    500 people with encoded names, a file name in 20 RFC 2231 sections, a
#    date with a long comment
w("34-sane-groups.eml", dsn_frame(report_headers=b"To: undisclosed-recipients:;\n",
                                  original_headers=b"To: team: caps@example.net (Caps (work)), b@example.net;, "
                                                   b"other: c@example.net;\n"))
w("35-sane-names.eml", notice_frame(b"To: " + b",\n ".join(b"=?UTF-8?B?5bGx55Sw?= <p%d@example.net>" % i
                                                           for i in range(500)) + b"\n"))
w("36-sane-rfc2231.eml", dsn_frame(text_ct=b"text/plain; charset=\"us-ascii\"; format=flowed" +
                                   b"".join(b";\n name*%d*=%s%%E5%%B1%%B1" % (i, b"UTF-8''" if i == 0 else b"")
                                            for i in range(20))))
w("37-sane-date.eml", dsn_frame(report_headers=b"To: owner@example.com\nDate: Thu, 19 Nov 2026 09:12:44 +0900 (" +
                                b"x" * 200 + b")\n"))
# 41 an mbox whose second message is no mail and whose fourth is refused by
#    a cap: each gets its own error line at its own index, and the third
#    and fifth keep theirs (2 and 4)
w("41-damaged.mbox",
  b"From MAILER-DAEMON Thu Nov 19 00:00:00 2026\n" + dsn(b"d0@mx.example.org", b"first@example.net", b"o0@example.com") + b"\n"
  b"From MAILER-DAEMON Thu Nov 19 00:00:01 2026\n\x01\x02\x03 no header here\n\n"
  b"From MAILER-DAEMON Thu Nov 19 00:00:02 2026\n" + dsn(b"d2@mx.example.org", b"third@example.net", b"o2@example.com") + b"\n"
  b"From MAILER-DAEMON Thu Nov 19 00:00:03 2026\nFrom: x@example.org\nTo: " + b"g:" * 1000 + b"\n\nx\n\n"
  b"From MAILER-DAEMON Thu Nov 19 00:00:04 2026\n" + dsn(b"d4@mx.example.org", b"fifth@example.net", b"o4@example.com"))
# 99 the good file after all of that
w("99-good.eml", dsn(b"good@mx.example.org", b"good@example.net", b"goodoriginal@example.com"))
PYEOF

# Read errors: a FIFO without a writer (must not hold the batch in open()),
# and /proc/self/mem, a regular file whose read() at offset 0 fails with
# EIO (nothing is mapped at address 0): a real read error without a broken
# disk.  Both must be error lines, never a truncated mail read as a result.
mkfifo "$tmp/40-fifo.eml"
# The good file goes last, after any fuzzer reproducers.
inputs=()
for f in "$tmp"/[0-9][0-9]-*; do
    [ "$f" = "$tmp/99-good.eml" ] || inputs+=("$f")
done
if [ -r /proc/self/mem ]; then
    inputs+=(/proc/self/mem)
fi
# Fuzzer findings become regression inputs (tests/fuzz/run.sh, README).
if [ -d "$BW_SRCDIR/tests/fuzz/crashes/parse" ]; then
    for f in "$BW_SRCDIR"/tests/fuzz/crashes/parse/*; do
        case "$f" in *.md) continue ;; esac
        [ -f "$f" ] && inputs+=("$f")
    done
fi
inputs+=("$tmp/99-good.eml")

# Runs bouncewatch under the time and memory limits; peak RSS (KiB) goes
# to $tmp/rss when /usr/bin/time exists.
run_limited() {
    local limit=$1
    shift
    rm -f "$tmp/rss"
    (
        if [ "${BW_SANITIZED:-0}" != 1 ]; then ulimit -v "$VMEM_LIMIT_KB"; fi
        if [ -x /usr/bin/time ]; then
            exec timeout -k 5 "$limit" /usr/bin/time -o "$tmp/rss" -f '%M' "$@"
        else
            exec timeout -k 5 "$limit" "$@"
        fi
    )
}

# ---------------------------------------------------------------- each input alone
for f in "${inputs[@]}"; do
    name=${f##*/}
    rc=0
    t0=$(date +%s%N)
    run_limited "$FILE_TIME_LIMIT" "$BW_BIN" parse --json "$f" >"$tmp/one.out" 2>"$tmp/one.err" </dev/null || rc=$?
    t1=$(date +%s%N)
    rss=$(tail -n1 "$tmp/rss" 2>/dev/null || echo '?')
    printf '%-26s exit %-3s %6d ms  peak RSS %s KiB\n' "$name" "$rc" $(( (t1 - t0) / 1000000 )) "$rss"
    case "$rc" in
        0|1) ;;
        124|137) failmsg "$name: no answer within ${FILE_TIME_LIMIT}s" ;;
        *) failmsg "$name: exit status $rc (crash or abort?)"; head -c 2000 "$tmp/one.err" ;;
    esac
    if [ "$rss" != '?' ] && [ "$rss" -gt "$RSS_LIMIT_KB" ]; then
        failmsg "$name: peak RSS $rss KiB over $RSS_LIMIT_KB KiB"
    fi
    if [ ! -s "$tmp/one.out" ]; then
        failmsg "$name: no output line"
    fi
    # A GLib critical is a g_return_if_fail() in GLib/GMime tripping: the
    # core handed it something invalid.  A bug, even when the output is fine.
    if grep -q -- '-CRITICAL \*\*' "$tmp/one.err"; then
        failmsg "$name: $(grep -m1 -- '-CRITICAL \*\*' "$tmp/one.err")"
    fi
    # The reader process contains a crash or a hang (CONTAINMENT in
    # bouncewatch(1)), which would turn a bug into a mere error line here:
    # hostile input must be handled by the parser, never by containment.
    if grep -qE 'the reader (crashed|stopped)|took (more than|too long)|answered garbage|invalid answer' "$tmp/one.err"; then
        failmsg "$name: $(grep -m1 -E 'reader|took' "$tmp/one.err")"
    fi
    errsize=$(stat -c %s "$tmp/one.err")
    if [ "$errsize" -gt 65536 ]; then
        failmsg "$name: $errsize bytes on stderr (a warning flood)"
    fi
done

# ---------------------------------------------------------------- one batch
rc=0
run_limited "$TIME_LIMIT" "$BW_BIN" parse --json "${inputs[@]}" >"$tmp/batch.out" 2>"$tmp/batch.err" </dev/null || rc=$?
if grep -qE 'the reader (crashed|stopped)|took (more than|too long)|answered garbage|invalid answer' "$tmp/batch.err"; then
    failmsg "batch: $(grep -m1 -E 'reader|took' "$tmp/batch.err")"
fi
echo "batch of ${#inputs[@]} inputs: exit $rc, peak RSS $(tail -n1 "$tmp/rss" 2>/dev/null || echo '?') KiB"
if [ "$rc" -ne 1 ]; then
    failmsg "batch: exit status $rc, expected 1 (some inputs are errors, none may crash)"
fi

# stdin: garbage and an oversized stream, each a clean error or result.
rc=0
run_limited "$FILE_TIME_LIMIT" "$BW_BIN" parse --json - <"$tmp/02-garbage.bin" >"$tmp/stdin1.out" 2>/dev/null || rc=$?
[ "$rc" -le 1 ] || failmsg "stdin garbage: exit status $rc"
rc=0
run_limited "$FILE_TIME_LIMIT" "$BW_BIN" parse --json - <"$tmp/04-too-large.eml" >"$tmp/stdin2.out" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || failmsg "stdin over the size limit: exit status $rc, expected 1"

# ---------------------------------------------------------------- the lines
printf '%s\n' "${inputs[@]}" >"$tmp/inputs.txt"
if ! python3 - "$tmp" <<'PYEOF'
import json, sys, os
d = sys.argv[1]
# File names are bytes; the "file" member can only carry them as valid
# UTF-8 (invalid bytes replaced), so names are compared on their ASCII part.
def ascii_key(name):
    return "".join(c for c in name if ord(c) < 128)
inputs = open(os.path.join(d, "inputs.txt"), "rb").read().decode("utf-8", "replace").split("\n")[:-1]
problems = []
def problem(msg):
    problems.append(msg)

def load(path):
    out = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                out.append(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as e:
                problem("%s line %d is not JSON (%s): %r" % (os.path.basename(path), n, e, raw[:200]))
    return out

lines = load(os.path.join(d, "batch.out"))
for o in lines:
    if not isinstance(o, dict) or "file" not in o or "error" not in o or "bounce" not in o:
        problem("line without file/bounce/error: %r" % (str(o)[:200],))
    elif o["error"] is not None:
        if not isinstance(o["error"], str) or not o["error"].strip() or "\n" in o["error"]:
            problem("%s: unclear error %r" % (o["file"], o["error"]))
    elif not isinstance(o["bounce"], bool):
        problem("%s: bounce is %r" % (o["file"], o["bounce"]))

# Every input has its line(s), in input order.
order = []
for o in lines:
    f = ascii_key(o.get("file") or "")
    if not order or order[-1] != f:
        order.append(f)
if order != [ascii_key(i) for i in inputs]:
    missing = [i for i in inputs if ascii_key(i) not in order]
    problem("inputs missing or out of order in the batch output; missing: %s" %
            [os.path.basename(m) for m in missing])

by = {}
for o in lines:
    by.setdefault(os.path.basename(o.get("file", "")), []).append(o)
def one(name):
    got = by.get(name, [])
    if len(got) != 1:
        problem("%s: %d lines, expected 1" % (name, len(got)))
        return {}
    return got[0]

if one("01-empty.eml").get("error") is None:
    problem("01-empty.eml: no error for an empty file")
if one("04-too-large.eml").get("error") is None:
    problem("04-too-large.eml: no error for a file over 64 MiB")
big = one("03-50mb.eml")
if big.get("error") is None and not big.get("bounce"):
    problem("03-50mb.eml: a 50 MB DSN under the limit is neither parsed as a bounce nor an error")
# The body of a mail is not a reason to lose its headers and delivery status.
for name, addr in (("06-long-header.eml", "lh@example.net"),
                   ("09-self-report.eml", "loop@example.net")):
    o = one(name)
    if o.get("error") is not None:
        continue
    if not o.get("bounce") or addr not in [r.get("address") for r in o.get("recipients") or []]:
        problem("%s: expected a bounce naming %s, got %s" % (name, addr, json.dumps(o)[:300]))
many = one("13-many-recipients.eml")
if many.get("error") is None and len(many.get("recipients") or []) > 1000:
    problem("13-many-recipients.eml: %d recipients, more than BW_MAX_RECIPIENTS" % len(many["recipients"]))

mbox = by.get("12-broken.mbox", [])
addrs = {r.get("address") for o in mbox for r in (o.get("recipients") or [])}
for a in ("first@example.net", "third@example.net"):
    if a not in addrs:
        problem("12-broken.mbox: the good message to %s around the broken one was not reported" % a)
if mbox and any(o.get("index") is None for o in mbox if o.get("error") is None):
    problem("12-broken.mbox: mbox lines without index")

# Structural bombs: refused, with the cap named (caps.c, bw.h).
REFUSED = {
    "20-json-deep.eml": "BW_MAX_JSON_DEPTH",
    "21-json-wide.eml": "BW_MAX_JSON_VALUES",
    "24-group-bomb-attached.eml": "BW_MAX_ADDRESS_GROUP_DEPTH",
    "25-group-bomb-report.eml": "BW_MAX_ADDRESS_GROUP_DEPTH",
    "26-group-bomb-original.eml": "BW_MAX_ADDRESS_GROUP_DEPTH",
    "27-comment-bomb.eml": "BW_MAX_ADDRESS_COMMENT_DEPTH",
    "28-address-list-bomb.eml": "BW_MAX_ADDRESSES",
    "29-param-bomb.eml": "BW_MAX_MIME_PARAMS",
    "30-rfc2231-bomb.eml": "BW_MAX_RFC2231_SECTIONS",
    "31-encoded-words-bomb.eml": "BW_MAX_ENCODED_WORDS",
    "32-encoded-words-total.eml": "BW_MAX_ENCODED_WORDS_TOTAL",
}
for name, cap in sorted(REFUSED.items()):
    o = one(name)
    err = o.get("error") or ""
    if not err.startswith("refused: ") or cap not in err:
        problem("%s: expected an error line naming %s, got %s" % (name, cap, json.dumps(o)[:300]))
# Sane inputs near the caps: read in full (recipient, count).
SANE = {
    "22-json-sane-deep.eml": ("deep@example.net", 1),
    "23-json-sane-wide.eml": ("r999@example.net", 1000),
    "33-long-date.eml": ("caps@example.net", 1),
    "34-sane-groups.eml": ("caps@example.net", 1),
    "35-sane-names.eml": ("caps@example.net", 1),
    "36-sane-rfc2231.eml": ("caps@example.net", 1),
    "37-sane-date.eml": ("caps@example.net", 1),
}
for name, (addr, count) in sorted(SANE.items()):
    o = one(name)
    got = [r.get("address") for r in o.get("recipients") or []]
    if o.get("error") is not None or not o.get("bounce") or addr not in got or len(got) != count:
        problem("%s: expected a bounce naming %s (%d recipients), got %s" %
                (name, addr, count, json.dumps(o)[:300]))

dm = by.get("41-damaged.mbox", [])
if [o.get("index") for o in dm] != [0, 1, 2, 3, 4]:
    problem("41-damaged.mbox: indexes %s, expected 0 to 4" % [o.get("index") for o in dm])
else:
    want = [("first@example.net", None), (None, ""), ("third@example.net", None),
            (None, "BW_MAX_ADDRESS_GROUP_DEPTH"), ("fifth@example.net", None)]
    for o, (addr, err) in zip(dm, want):
        got = [r.get("address") for r in o.get("recipients") or []]
        if addr is not None and (o.get("error") is not None or addr not in got):
            problem("41-damaged.mbox [%d]: expected %s, got %s" % (o["index"], addr, json.dumps(o)[:200]))
        if err is not None and (not o.get("error") or err not in o["error"]):
            problem("41-damaged.mbox [%d]: expected an error line (%s), got %s" % (o["index"], err, json.dumps(o)[:200]))
if "not a regular file" not in (one("40-fifo.eml").get("error") or ""):
    problem("40-fifo.eml: a FIFO is not an error line: %s" % by.get("40-fifo.eml"))
if "/proc/self/mem" in inputs and "read error" not in (one("mem").get("error") or ""):
    problem("/proc/self/mem: a read error is not an error line: %s" % by.get("mem"))
if one("33-long-date.eml").get("message", {}).get("date") is not None:
    problem("33-long-date.eml: a 100 KB date was read as a date")
if (one("37-sane-date.eml").get("message") or {}).get("date") != "2026-11-19T09:12:44+09:00":
    problem("37-sane-date.eml: the date with a long comment was not read")
if "caps@example.net" not in ((one("34-sane-groups.eml").get("original") or {}).get("to") or []):
    problem("34-sane-groups.eml: the original's To in groups was not read")

good = one("99-good.eml")
if good.get("error") is not None or not good.get("bounce") or good.get("kind") != "dsn":
    problem("99-good.eml: the good DSN after the hostile inputs is wrong: %s" % json.dumps(good)[:300])
else:
    r = good.get("recipients") or [{}]
    if r[0].get("address") != "good@example.net" or r[0].get("status") != "5.1.1":
        problem("99-good.eml: recipient %s" % json.dumps(r)[:300])
    if (good.get("original") or {}).get("message_id") != "goodoriginal@example.com":
        problem("99-good.eml: original %s" % json.dumps(good.get("original"))[:300])

for name in ("stdin1.out", "stdin2.out"):
    got = load(os.path.join(d, name))
    if len(got) != 1 or got[0].get("file") != "-":
        problem("%s: expected one line for -, got %d" % (name, len(got)))
s2 = load(os.path.join(d, "stdin2.out"))
if s2 and s2[0].get("error") is None:
    problem("stdin over 64 MiB: no error")

for p in problems:
    print("FAIL:", p)
print("%d lines checked, %d problems" % (len(lines), len(problems)))
sys.exit(1 if problems else 0)
PYEOF
then
    fail=1
fi

exit $fail
