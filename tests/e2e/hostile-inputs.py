#!/usr/bin/env python3
# hostile-inputs.py DIR: writes the hostile inputs of the e2e tests into DIR
# (T090 parses each of them; T311 delivers them into a mailbox beside a
# flood).  Each input is described where it is written; the names start
# with a number, the good DSN is 99-good.eml.  --small leaves out the two
# inputs of 50 MB and more (03, 04).
import os, random, sys, base64

d = sys.argv[1]
small = "--small" in sys.argv[2:]
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
for f in ([] if small else [open(os.path.join(d, "03-50mb.eml"), "wb")]):
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
    f.close()
# 04 past BW_MAX_MESSAGE_BYTES (64 MiB): must be refused with an error line
for f in ([] if small else [open(os.path.join(d, "04-too-large.eml"), "wb")]):
    f.write(b"From: a@example.org\nSubject: huge\n\n")
    chunk = (b"x" * 99 + b"\n") * 10000
    for _ in range((65 << 20) // len(chunk) + 1):
        f.write(chunk)
    f.close()
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
# 38 4,096 header names of one hash: they differ only in bit 5 of '[' and
#    '{' at 12 places, which the header index's hash folds (report-view.c).
#    Each compared with every earlier one was 8 M whole-name comparisons: a
#    4.2 MB header block passed the reader's CPU limit and the bounce was
#    lost; the index bounds the names of one hash (the full-size input; 0.9
#    MB with --small)
import itertools
_pre = b"X-" + b"a" * (200 if small else 1000)
w("38-header-names-one-hash.eml",
  b"From: MAILER-DAEMON@mx.example.org\nTo: owner@example.com\nSubject: Undelivered Mail Returned to Sender\n"
  + b"".join(_pre + bytes(bits) + b": v\n" for bits in itertools.product(b"[{", repeat=12))
  + b"\nThis is the mail system at host mx.example.org.\n\n<caps@example.net>: user unknown\n")
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
