#!/usr/bin/env python3
"""sent-exact.py: an incremental scan after the owner's sent mail changes
gives what a full rescan gives, on generated mailboxes.

  sent-exact.py --bin BOUNCEWATCH [--sample N] DIR...

incremental-exact.py never adds mail from the owner, and the scale-1
scenarios hold fewer sent messages than the profile's default sample (500),
so neither reaches the paths a run takes when the owner's mail changed: the
sample listed from the last sample's oldest date on, the copies of sent mail
counted from there, the owner's count derived from the last one
(scan-classify.c, nm-source.c).  This sets bouncewatch.profile_sample to N
(default 50: smaller than the scenarios' sent mail), builds a state, then,
each step followed by `scan --json` against `scan --json --full` on another
state (identical but for "revision"):
  1. the owner sends a message (a copy of their newest, new Message-ID);
  2. one more, dated years back (outside the sample's dates);
  3. the newest sent message is removed;
  4. an old sent message is re-tagged and a new one sent;
  5. two sent and one removed;
  6. one sent to an address a stored report's recheck asked about (a
     recorded sent_count_to answer 0: it turns 1);
  7. one sent with a subject a stored report asked about, at its time (a
     recorded sent_subject_near answer 0: it turns 1).
Each DIR is a mailbox made by shared/scenarios/gen.py (DIR/notmuch-config,
DIR/mail, DIR/truth.json), copied to a temporary directory first.  The
stored items' fingerprints (state.sqlite, items.json) must be the full
rescan's too: they do not show in the document, but the next run groups
campaigns with them ("FP-DIFFERS").  Exit 1 when a step differs."""
import argparse
import email.utils
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentbox import SentBox, questions, with_header  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--bin", required=True)
ap.add_argument("--sample", type=int, default=50)
ap.add_argument("dirs", nargs="+")
args = ap.parse_args()
binp = os.path.abspath(args.bin)

bad = 0
for d in args.dirs:
    d = os.path.abspath(d)
    with tempfile.TemporaryDirectory(prefix="bw-sent-exact-") as tmp:
        box = SentBox(d, tmp, binp, args.sample, "bw-sent-exact", "sent-exact.py")
        inc, new, sent, owner, nm = box.inc, box.new, box.sent, box.owner, box.nm
        if len(sent) < 4:
            print("%-18s too little sent mail, skipped" % box.name)
            continue

        def add(k, date):
            box.add(k, date, b"bw-sent-exact")

        def set_header(k, name, value):
            f = os.path.join(new, "cur", "s%d:2,S" % k)
            with open(f, "rb") as fh:
                raw = fh.read()
            with open(f, "wb") as fh:
                fh.write(with_header(raw, name, value))

        def send_to_reported():
            # a "never wrote to" address of a stored report: its C answer
            # turns from 0 to 1 (kept verdicts must see it)
            cands = sorted({a[0] for a, ans in questions(inc, "C")
                            if ans == "0" and a[0].isascii() and "@" in a[0]})
            if not cands:
                return "no C question"
            add(6, "Mon, 23 Nov 2026 19:10:00 +0900")
            set_header(6, b"To", cands[0].encode())
            return cands[0]

        def send_reported_subject():
            # a subject a stored report asked about, at its time: N turns 0 -> 1
            cands = sorted((a[0], int(a[1])) for a, ans in questions(inc, "N")
                           if ans == "0" and a[0].isascii() and re.search(r"[A-Za-z]{3}", a[0]))
            if not cands:
                return "no N question"
            # one of words only first: the op asks notmuch for the words as a
            # phrase, which "1156.74" (one term in notmuch's index) never matches
            words = [c for c in cands if re.fullmatch(r"[A-Za-z ]+", c[0])]
            subject, t = (words or cands)[0]
            add(7, email.utils.formatdate(t, localtime=False))
            set_header(7, b"Subject", subject.encode())
            return subject

        def retag_oldest_and_send():
            oldest = nm("search", "--output=messages", "--sort=oldest-first", "from:" + owner).split()[0]
            nm("tag", "+bw-sent-exact", "--", "id:" + oldest[3:])
            add(5, "Mon, 23 Nov 2026 19:05:00 +0900")

        steps = [("1 sent, newest", lambda: add(1, "Mon, 23 Nov 2026 18:35:35 +0900")),
                 ("1 sent, backdated", lambda: add(2, "Tue, 01 Jan 2019 10:00:00 +0000")),
                 ("newest sent removed", lambda: os.unlink(sent[0])),
                 ("old retagged, 1 sent", retag_oldest_and_send),
                 ("2 sent, 1 removed", lambda: (add(3, "Mon, 23 Nov 2026 19:00:00 +0900"),
                                                add(4, "Mon, 23 Nov 2026 19:01:00 +0900"),
                                                os.unlink(sent[3]))),
                 ("1 sent to a reported", send_to_reported),
                 ("1 sent, reported subj", send_reported_subject)]
        bad += box.run_steps(steps)
sys.exit(1 if bad else 0)
