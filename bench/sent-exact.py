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
        sys.exit("sent-exact.py: scan failed: " + p.stderr[-400:])
    phases = " ".join(l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                      if re.search(r"timing: (learn|classify|profile)", l))
    doc = json.loads(p.stdout)
    doc.pop("revision", None)
    return doc, phases


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
    with tempfile.TemporaryDirectory(prefix="bw-sent-exact-") as tmp:
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
        new = os.path.join(box, "mail", "bw-sent-exact")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(new, sub), exist_ok=True)
        sent = nm("search", "--output=files", "--sort=newest-first", "from:" + owner).split()
        if len(sent) < 4:
            print("%-18s too little sent mail, skipped" % name)
            continue
        with open(sent[0], "rb") as f:
            raw0 = f.read()

        def add(k, date):
            raw = with_new_id(raw0, b"bw-sent-exact-%d" % k)
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

        def send_to_reported():
            # a "never wrote to" address of a stored report: its C answer
            # turns from 0 to 1 (kept verdicts must see it)
            cands = sorted({a[0] for a, ans in questions(inc, "C")
                            if ans == "0" and a[0].isascii() and "@" in a[0]})
            if not cands:
                return "no C question"
            add(6, "Mon, 23 Nov 2026 19:10:00 +0900")
            f = os.path.join(new, "cur", "s6:2,S")
            with open(f, "rb") as fh:
                raw = fh.read()
            with open(f, "wb") as fh:
                fh.write(with_header(raw, b"To", cands[0].encode()))
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
            f = os.path.join(new, "cur", "s7:2,S")
            with open(f, "rb") as fh:
                raw = fh.read()
            with open(f, "wb") as fh:
                fh.write(with_header(raw, b"Subject", subject.encode()))
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
        for k, (label, act) in enumerate(steps):
            time.sleep(1.1)   # a new second: notmuch new sees the folders' mtimes move
            r = act()
            if isinstance(r, str) and r.startswith("no "):
                label += " (%s)" % r
            nm("new", "--quiet", "--no-hooks")
            a, phases = scan(env, inc)
            b, _ = scan(env, os.path.join(tmp, "full-%d" % k), full=True)
            same = a == b
            full_state = os.path.join(tmp, "full-%d" % k)
            fp_same = fingerprints(inc) == fingerprints(full_state)
            bad += not same or not fp_same
            verdict = "identical" if same else "DIFFERENT"
            if not fp_same:
                verdict += " FP-DIFFERS"
            print("%-18s %-22s %-44s %s" % (name, label, phases, verdict), flush=True)
sys.exit(1 if bad else 0)
