#!/usr/bin/env python3
"""Build the bouncewatch demo mailbox (a Maildir) from the templates.

The mailbox of Alex Morgan <alex@example.org>:
  - ordinary mail in the inbox and a few sent messages (Sent folder);
  - two legitimate reports about mail Alex really sent (a bounce for a
    mistyped address, an out-of-office reply);
  - a spoofing flood: bounces and auto-replies, in several MTA formats, about
    an "overdue invoice" campaign forged in Alex's name from a botnet.

Used by contrib/demo.sh (make demo) and by the end-to-end tests, which add
the flood in steps to watch a surge grow.  Everything is deterministic for a
given --now, so tests can pin BOUNCEWATCH_NOW.

  build-mailbox.py MAILDIR [--now RFC3339] [--base] [--flood N]
                   [--flood-start K] [--subject TEXT] [--spread-minutes M]
                   [--via-own-account] [--formats F1,F2...]
"""
import argparse
import datetime as dt
import email.header
import email.utils
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")
OWNER = "alex@example.org"
# Reporting servers of the flood: different organisations, as in real
# backscatter (each forged recipient's own server bounces).
MTAS = ["mail.shop-aurora.example", "mx2.univ-kita.example", "smtp.brightdental.example",
        "mx.stadtwerke-ost.example", "mail.harbour-freight.example", "mx1.kobe-trading.example",
        "mail.green-valley.example", "relay.lumen-hosting.example"]
FORMATS = ["flood-postfix", "flood-exim", "flood-qmail", "flood-postfix", "flood-autoreply"]
NAMES = ["info", "sales", "k.tanaka", "j.smith", "accounts", "m.weber", "office", "support",
         "a.rossi", "hr", "billing", "t.nguyen"]
SENT = [  # (days ago, to, subject, body)
    (13, "yuki.sato@example.net", "Re: Lunch next week", "Thursday works for me, see you at noon."),
    (9, "kenij@example.net", "Photos from the walk", "Here are the photos I promised."),
    (6, "hiroshi@example.jp", "Meeting notes", "Attached are the notes from Tuesday."),
    (4, "marco@example.it", "Re: [photo-club] Saturday walk", "Thanks Marco, I will be there."),
    (2, "landlord@example.com", "Heating repair", "The technician can come on Friday morning."),
]


def load(name):
    with open(os.path.join(TEMPLATES, name + ".eml"), encoding="utf-8") as f:
        return f.read()


def fill(template, values):
    # One pass over known keys only: values (forged subjects) may contain
    # braces or markup and must arrive exactly as given.
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def header_text(s):
    if all(ord(c) < 128 for c in s):
        return s
    return email.header.Header(s, "utf-8").encode()


def rfc2822(t):
    return email.utils.format_datetime(t)


def hexid(*parts, n=16):
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:n]


def write(maildir, folder, name, text, seen=True):
    base = maildir if folder == "" else os.path.join(maildir, "." + folder)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    path = os.path.join(base, "cur" if seen else "new", name + (":2,S" if seen else ""))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text.replace("\r\n", "\n"))


def build_base(maildir, now):
    for i in range(1, 5):
        t = now - dt.timedelta(days=11 - 2 * i, hours=i)
        write(maildir, "", "base-ordinary-%d" % i,
              fill(load("ordinary-%d" % i), {"date": rfc2822(t),
                                             "msgid": "%s@example.net" % hexid("ord", i)}))
    sent_ids = []
    for i, (days, to, subject, body) in enumerate(SENT):
        t = (now - dt.timedelta(days=days)).replace(hour=9 + i, minute=12, second=30)
        msgid = "%s.GA%04d@example.org" % (t.strftime("%Y%m%d%H%M%S"), 1000 + i)
        sent_ids.append((t, to, subject, msgid))
        write(maildir, "Sent", "base-sent-%d" % i,
              fill(load("sent"), {"date": rfc2822(t), "to": to, "subject": subject,
                                  "msgid": msgid, "body": body}))
    t, to, subject, msgid = sent_ids[1]
    write(maildir, "", "base-legit-dsn",
          fill(load("legit-dsn"), {"date": rfc2822(t + dt.timedelta(minutes=1)),
                                   "orig_date": rfc2822(t), "to": to,
                                   "to_domain": to.split("@")[1], "orig_subject": subject,
                                   "orig_msgid": msgid,
                                   "msgid": "%s@smtp.example.org" % hexid("dsn")}))
    t, to, subject, msgid = sent_ids[2]
    write(maildir, "", "base-legit-vacation",
          fill(load("legit-vacation"), {"date": rfc2822(t + dt.timedelta(minutes=3)),
                                        "orig_subject": subject, "orig_msgid": msgid,
                                        "msgid": "%s@example.jp" % hexid("vac")}))


def build_flood(maildir, now, first, count, subject_tpl, spread, via_own=False, formats=None):
    formats = formats or FORMATS
    for n in range(first, first + count):
        # Arrivals spread over the last `spread` minutes, newest last; the
        # forged originals left the botnet a few minutes before each bounce.
        t = now - dt.timedelta(seconds=(first + count - 1 - n) * spread * 60 // (first + count))
        orig = t - dt.timedelta(minutes=3 + n % 7)
        mta = MTAS[n % len(MTAS)]
        to = "%s@%s" % (NAMES[n % len(NAMES)], mta.split(".", 1)[1])
        values = {
            "date": rfc2822(t), "orig_date": rfc2822(orig), "mta": mta,
            "mta_ip": "198.51.100.%d" % (10 + n % len(MTAS)),
            "qid": hexid("q", n, n=10).upper(), "to": to,
            "rcpt_mx": "mx." + mta.split(".", 1)[1], "rcpt_mx_ip": "198.51.100.%d" % (60 + n % 9),
            "bot_helo": "DESKTOP-%s" % hexid("h", n % 13, n=6).upper(),
            "bot_ip": "203.0.113.%d" % (20 + n % 200),
            "subject": header_text(subject_tpl.replace("{n}", str(48200 + n))),
            "orig_msgid": "%s$%s@example.org" % (hexid("fm", n, n=12), hexid("fs", n, n=8)),
            "msgid": "%s@%s" % (hexid("b", n, n=20), mta),
            "mailer": "Microsoft Outlook 16.0", "url_host": "pay-invoice-portal.example.com",
            "n": str(48200 + n), "orig_hop": "",
        }
        if via_own:
            # The forged mail went out through Alex's own provider, signed
            # with its DKIM key: what a stolen password looks like.
            values["orig_hop"] = (
                "Received: from [{ip}] (unknown [{ip}])\n"
                "\t(Authenticated sender: alex@example.org)\n"
                "\tby smtp.example.org (Postfix) with ESMTPSA id {qid}\n"
                "\tfor <{to}>; {date}\n"
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;\n"
                "\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
                "\tb=Zm9vYmFy\n").format(ip=values["bot_ip"], qid=hexid("o", n, n=10).upper(),
                                         to=to, date=values["orig_date"])
            values["bot_helo"], values["bot_ip"] = "smtp.example.org", "192.0.2.10"
        # How each MTA writes the hop it received the forged mail from: a
        # botnet PC has no reverse DNS, the provider's relay has.
        fmt = formats[n % len(formats)]
        helo, ip = values["bot_helo"], values["bot_ip"]
        rdns = helo if via_own else "unknown"
        values["bot_from"] = {
            "flood-postfix": "%s (%s [%s])" % (helo, rdns, ip),
            "flood-exim": ("%s ([%s])" % (helo, ip)) if via_own else "[%s] (helo=%s)" % (ip, helo),
            "flood-qmail": "%s (HELO %s) (%s)" % (rdns, helo, ip),
        }.get(fmt, "")
        write(maildir, "", "flood-%04d" % n, fill(load(fmt), values), seen=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("maildir")
    ap.add_argument("--now", help="RFC 3339 time the flood ends at (default: the wall clock)")
    ap.add_argument("--base", action="store_true", help="write the ordinary, sent and legitimate mail")
    ap.add_argument("--flood", type=int, default=0, help="number of flood reports to write")
    ap.add_argument("--flood-start", type=int, default=0, help="index of the first flood report")
    ap.add_argument("--subject", default="Invoice #{n} overdue - payment required",
                    help="forged subject; {n} becomes the invoice number")
    ap.add_argument("--spread-minutes", type=int, default=50)
    ap.add_argument("--formats", help="comma-separated report formats of the flood, among "
                    + ", ".join(sorted(set(FORMATS))) + " (default: a mix of all)")
    ap.add_argument("--via-own-account", action="store_true",
                    help="the forged mail went out through the owner's provider (compromise)")
    a = ap.parse_args()
    if a.flood < 0 or a.flood > 100000 or a.flood_start < 0:
        sys.exit("build-mailbox.py: --flood must be 0..100000")
    now = (dt.datetime.fromisoformat(a.now) if a.now
           else dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    os.makedirs(a.maildir, exist_ok=True)
    if a.base:
        build_base(a.maildir, now)
    if a.flood:
        build_flood(a.maildir, now, a.flood_start, a.flood, a.subject, a.spread_minutes,
                    a.via_own_account, a.formats.split(",") if a.formats else None)


if __name__ == "__main__":
    main()
