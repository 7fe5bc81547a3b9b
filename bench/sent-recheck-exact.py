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
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import with_new_id  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--bin", required=True)
ap.add_argument("--sample", type=int, default=50)
ap.add_argument("dirs", nargs="+")
args = ap.parse_args()
binp = os.path.abspath(args.bin)


def now_of(d):
    with open(os.path.join(d, "truth.json")) as f:
        return re.search(r'"now":\s*"([^"]+)"', f.read(65536)).group(1)


def scan(env, state, full=False):
    e = dict(env, XDG_DATA_HOME=state, XDG_CACHE_HOME=os.path.join(state, "cache"),
             BOUNCEWATCH_DEBUG_TIMING="1")
    p = subprocess.run([binp, "scan", "--json"] + (["--full"] if full else []), env=e,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("sent-recheck-exact.py: scan failed: " + p.stderr[-400:])
    phases = " ".join(l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                      if re.search(r"timing: (learn|classify|profile)", l))
    doc = json.loads(p.stdout)
    doc.pop("revision", None)
    return doc, phases


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


def fingerprints(state):
    db = sqlite3.connect(os.path.join(state, "bouncewatch", "state.sqlite"))
    try:
        return {mid: json.loads(j).get("fingerprint")
                for mid, j in db.execute("SELECT message_id, json FROM items")}
    finally:
        db.close()


bad = 0
for d in args.dirs:
    d = os.path.abspath(d)
    name = os.path.basename(d.rstrip("/"))
    with tempfile.TemporaryDirectory(prefix="bw-sent-recheck-") as tmp:
        box = os.path.join(tmp, "box")
        shutil.copytree(d, box, symlinks=True)
        cfg = os.path.join(box, "notmuch-config")
        with open(cfg) as f:
            text = f.read()
        text = re.sub(r"(?m)^path=.*$", "path=" + os.path.join(box, "mail"), text)
        text += "\n[bouncewatch]\nprofile_sample=%d\n" % args.sample
        with open(cfg, "w") as f:
            f.write(text)
        env = dict(os.environ, NOTMUCH_CONFIG=cfg, BOUNCEWATCH_NOW=now_of(d), LC_ALL="C.UTF-8",
                   DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bw")

        def nm(*a):
            return subprocess.run(["notmuch"] + list(a), env=env, check=True,
                                  capture_output=True, text=True).stdout

        owner = re.search(r"(?m)^primary_email=(.*)$", text).group(1).strip()
        inc = os.path.join(tmp, "inc")
        scan(env, inc)
        new = os.path.join(box, "mail", "bw-sent-recheck")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(new, sub), exist_ok=True)
        sent = nm("search", "--output=files", "--sort=newest-first", "from:" + owner).split()
        if len(sent) >= 4:
            with open(sent[0], "rb") as f:
                raw0 = f.read()
        else:
            raw0 = ("From: Owner <%s>\nTo: friend@elsewhere.example\nSubject: lunch\n"
                    "Date: Mon, 23 Nov 2026 18:00:00 +0900\nMessage-ID: <t@owner.example>\n"
                    "User-Agent: Mozilla/5.0 Thunderbird/128.4\n\nsee you\n" % owner).encode()

        def add(k, date):
            raw = with_new_id(raw0, b"bw-sent-recheck-%d" % k)
            m = re.search(rb"\r?\n\r?\n", raw)   # the Date of the header only
            end = m.start() if m else len(raw)
            raw = re.sub(rb"(?im)^date:.*$", b"Date: " + date.encode(), raw[:end], count=1) + raw[end:]
            with open(os.path.join(new, "cur", "s%d:2,S" % k), "wb") as f:
                f.write(raw)

        def questions(state, letter):
            """The recorded questions `letter` of the stored items: (args, answer)."""
            db = sqlite3.connect(os.path.join(state, "bouncewatch", "state.sqlite"))
            try:
                rows = [q for (q,) in db.execute("SELECT questions FROM items ORDER BY message_id")
                        if q]
            finally:
                db.close()
            out = []
            for text in rows:
                b = text.encode()
                i = 0
                while i + 2 <= len(b):
                    what, nargs = chr(b[i]), b[i + 1] - 48
                    i += 2
                    fields = []
                    for _ in range(nargs + 1):
                        colon = b.index(b":", i)
                        n = int(b[i:colon])
                        fields.append(b[colon + 1:colon + 1 + n].decode("utf-8", "replace"))
                        i = colon + 1 + n
                    i += 1   # the newline
                    if what == letter:
                        out.append((fields[:-1], fields[-1]))
            return out

        def with_header(raw, name, value):
            m = re.search(rb"\r?\n\r?\n", raw)
            end = m.start() if m else len(raw)
            head = re.sub(rb"(?im)^" + name + rb":.*(\r?\n[ \t].*)*$", name + b": " + value,
                          raw[:end], count=1)
            return head + raw[end:]

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
        for k, (label, act) in enumerate(steps):
            time.sleep(1.1)   # a new second: notmuch new sees the folders' mtimes move
            r = act()
            if isinstance(r, str) and r.startswith("no "):
                label += " (%s)" % r
            nm("new", "--quiet", "--no-hooks")
            a, phases = scan(env, inc)
            b, _ = scan(env, os.path.join(tmp, "full-%d" % k), full=True)
            same = relabel(a) == relabel(b)
            full_state = os.path.join(tmp, "full-%d" % k)
            fp_same = fingerprints(inc) == fingerprints(full_state)
            bad += not same or not fp_same
            verdict = "identical" if same else "DIFFERENT"
            if not fp_same:
                verdict += " FP-DIFFERS"
            print("%-18s %-22s %-44s %s" % (name, label, phases, verdict), flush=True)
sys.exit(1 if bad else 0)
