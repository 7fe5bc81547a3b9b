#!/usr/bin/env python3
"""sent-recheck-exact.py: stored verdicts kept after the owner sent mail
are the ones a full rescan gives, for sent messages made to turn a recorded
answer in ways bench/sent-exact.py does not try.

  sent-recheck-exact.py --bin BOUNCEWATCH [--sample N] DIR...

Since sent14 (51d8553) an incremental run keeps stored verdicts after the
owner's mail was only added, asking again only the recorded sent-mail
questions (S C N H A) that the new messages can turn.  Each step below adds
owner mail, then compares `scan --json` with `scan --json --full` on a new
state (as sent-exact.py does, and the stored fingerprints):
  1. Cc, display-name form and upper case, to an address a stored report
     asked sent_count_to about (answer 0);
  2. Bcc to another such address;
  3. To: with several recipients (a quoted comma, a folded line), one such;
  4. a sent message with the Message-ID of a report's original that
     sent_has_message_id answered "no" (the Sent copy arriving late);
  5. a sent message to such an address together with a received report
     (a copy of a stored one under a new Message-ID);
  6. a reported subject with "RE: Fwd: " and in upper case, an hour after
     the report (a recorded sent_subject_near answer 0);
  7. a reply to a stored report (In-Reply-To, References: its Message-ID);
  8. three sent at once.
A mailbox with fewer than four sent messages gets a synthetic one as the
template: no-sent-copies, skipped by sent-exact.py, then goes from no
owner mail to ten messages over the steps (past SENT_COPIES_MIN).
Campaign ids are compared up to renaming (by first appearance): the SPEC
keeps an existing campaign's id when its earliest member leaves
it (step 4 makes a member legitimate), which a full rescan on a new state
cannot know; membership and everything else are compared as they are.
Exit 1 when a step differs."""
import argparse
import email.utils
import os
import re
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import with_new_id  # noqa: E402
from sentbox import SentBox, questions, with_header  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--bin", required=True)
ap.add_argument("--sample", type=int, default=50)
ap.add_argument("dirs", nargs="+")
args = ap.parse_args()
binp = os.path.abspath(args.bin)


def relabel(doc):
    """doc with each campaign id renamed by its first appearance."""
    names = {}

    def walk(x):
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str) and re.fullmatch(r"bw-[0-9a-f]{8}", x):
            return names.setdefault(x, "campaign-%d" % len(names))
        return x
    return walk(doc)


bad = 0
for d in args.dirs:
    d = os.path.abspath(d)
    with tempfile.TemporaryDirectory(prefix="bw-sent-recheck-") as tmp:
        box = SentBox(d, tmp, binp, args.sample, "bw-sent-recheck", "sent-recheck-exact.py")
        inc, new, owner, nm = box.inc, box.new, box.owner, box.nm
        if len(box.sent) < 4:
            box.raw0 = ("From: Owner <%s>\nTo: friend@elsewhere.example\nSubject: lunch\n"
                        "Date: Mon, 23 Nov 2026 18:00:00 +0900\nMessage-ID: <t@owner.example>\n"
                        "User-Agent: Mozilla/5.0 Thunderbird/128.4\n\nsee you\n" % owner).encode()

        def add(k, date):
            box.add(k, date, b"bw-sent-recheck")

        def hdr(k, **h):
            f = os.path.join(new, "cur", "s%d:2,S" % k)
            with open(f, "rb") as fh:
                raw = fh.read()
            for name, v in h.items():
                name = name.replace("_", "-").encode()
                if re.search(rb"(?im)^" + name + rb":", raw.split(b"\n\n")[0]):
                    raw = with_header(raw, name, v.encode())
                else:
                    raw = name + b": " + v.encode() + b"\n" + raw
            with open(f, "wb") as fh:
                fh.write(raw)

        used = set()   # each step its own address

        def ccands(used):
            return sorted({a[0] for a, ans in questions(inc, "C")
                           if ans == "0" and a[0].isascii() and "@" in a[0]} - used)

        def cc_upper():
            c = ccands(used)
            if not c:
                return "no C question"
            used.add(c[0])
            add(11, "Mon, 23 Nov 2026 19:10:00 +0900")
            hdr(11, To="other@elsewhere.example", Cc='"Big Name" <%s>' % c[0].upper())
            return c[0]

        def bcc():
            c = ccands(used)
            if not c:
                return "no C question"
            used.add(c[0])
            add(12, "Mon, 23 Nov 2026 19:11:00 +0900")
            hdr(12, To="other2@elsewhere.example", Bcc=c[0])
            return c[0]

        def multi():
            c = ccands(used)
            if not c:
                return "no C question"
            used.add(c[0])
            add(13, "Mon, 23 Nov 2026 19:12:00 +0900")
            hdr(13, To="a@x.example, \"B, Q\" <b@y.example>,\n\t%s" % c[0])
            return c[0]

        def sent_original():
            c = sorted({a[0] for a, ans in questions(inc, "S") if ans.startswith("0") or ans == ""})
            if not c:
                return "no S question"
            add(14, "Mon, 23 Nov 2026 19:13:00 +0900")
            hdr(14, Message_ID="<%s>" % c[0])
            return c[0]

        def stored_ids(limit):
            db = sqlite3.connect(os.path.join(inc, "bouncewatch", "state.sqlite"))
            try:
                return [m for (m,) in db.execute(
                    "SELECT message_id FROM items ORDER BY message_id LIMIT ?", (limit,))]
            finally:
                db.close()

        def sent_and_report():
            c = ccands(used)
            add(15, "Mon, 23 Nov 2026 19:14:00 +0900")
            if c:
                used.add(c[0])
                hdr(15, To=c[0])
            # a copy of a stored report, new id
            mids = stored_ids(1)
            if mids:
                fs = nm("search", "--output=files", "id:" + mids[0]).split()
                with open(fs[0], "rb") as fh:
                    raw = fh.read()
                with open(os.path.join(new, "cur", "r15:2,S"), "wb") as fh:
                    fh.write(with_new_id(raw, b"bw-sent-recheck-r"))
            return "ok"

        def subj_variant():
            cands = sorted((a[0], int(a[1])) for a, ans in questions(inc, "N")
                           if ans == "0" and a[0].isascii() and re.fullmatch(r"[A-Za-z ]+", a[0]))
            if not cands:
                return "no N question"
            subject, t = cands[0]
            add(16, email.utils.formatdate(t + 3600, localtime=False))
            hdr(16, Subject="RE: Fwd: " + subject.upper())
            return subject

        def reply_to_report():
            mids = stored_ids(1)
            if not mids:
                return "no report"
            add(17, "Mon, 23 Nov 2026 19:20:00 +0900")
            hdr(17, In_Reply_To="<%s>" % mids[0], References="<%s>" % mids[0],
                Subject="Re: your notice")
            return mids[0]

        def three_sent():
            for k in (18, 19, 20):
                add(k, "Mon, 23 Nov 2026 19:%02d:00 +0900" % (k + 3))
            return "ok"

        steps = [("cc upper", cc_upper), ("bcc", bcc), ("multi to", multi),
                 ("sent, original's id", sent_original), ("sent+report", sent_and_report),
                 ("subject variant", subj_variant), ("reply to a report", reply_to_report),
                 ("3 sent at once", three_sent)]
        bad += box.run_steps(steps, relabel)
sys.exit(1 if bad else 0)
