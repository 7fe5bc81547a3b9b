"""sentbox.py: what bench/sent-exact.py and bench/sent-recheck-exact.py share:
a private copy of a scenario mailbox where the owner "sends" mail, and each
step's incremental `scan --json` compared with a full rescan on a new state.

  box = SentBox(scenario_dir, tmp, binp, sample, folder, who)
  box.run_steps([(label, action), ...], relabel=None)  -> number of steps that differ
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import scenario_copy, with_new_id  # noqa: E402


def with_header(raw, name, value):
    """raw with its header `name` (bytes) replaced by `value`, folded lines included."""
    m = re.search(rb"\r?\n\r?\n", raw)
    end = m.start() if m else len(raw)
    head = re.sub(rb"(?im)^" + name + rb":.*(\r?\n[ \t].*)*$", name + b": " + value,
                  raw[:end], count=1)
    return head + raw[end:]


def fingerprints(state):
    db = sqlite3.connect(os.path.join(state, "bouncewatch", "state.sqlite"))
    try:
        return {mid: json.loads(j).get("fingerprint")
                for mid, j in db.execute("SELECT message_id, json FROM items")}
    finally:
        db.close()


def questions(state, letter):
    """The recorded questions `letter` of the stored items: (args, answer)."""
    db = sqlite3.connect(os.path.join(state, "bouncewatch", "state.sqlite"))
    try:
        rows = [q for (q,) in db.execute("SELECT questions FROM items ORDER BY message_id") if q]
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


class SentBox:
    def __init__(self, d, tmp, binp, sample, folder, who):
        self.binp, self.who, self.tmp = binp, who, tmp
        self.name = os.path.basename(d.rstrip("/"))
        box, text, self.env = scenario_copy(d, tmp, "\n[bouncewatch]\nprofile_sample=%d\n" % sample)
        self.owner = re.search(r"(?m)^primary_email=(.*)$", text).group(1).strip()
        self.inc = os.path.join(tmp, "inc")
        self.scan(self.inc)
        self.new = os.path.join(box, "mail", folder)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.new, sub), exist_ok=True)
        self.sent = self.nm("search", "--output=files", "--sort=newest-first",
                            "from:" + self.owner).split()
        self.raw0 = None
        if self.sent:
            with open(self.sent[0], "rb") as f:
                self.raw0 = f.read()

    def nm(self, *a):
        return subprocess.run(["notmuch"] + list(a), env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def scan(self, state, full=False):
        e = dict(self.env, XDG_DATA_HOME=state, XDG_CACHE_HOME=os.path.join(state, "cache"),
                 BOUNCEWATCH_DEBUG_TIMING="1")
        p = subprocess.run([self.binp, "scan", "--json"] + (["--full"] if full else []), env=e,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("%s: scan failed: %s" % (self.who, p.stderr[-400:]))
        phases = " ".join(l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                          if re.search(r"timing: (learn|classify|profile)", l))
        doc = json.loads(p.stdout)
        doc.pop("revision", None)
        return doc, phases

    def add(self, k, date, prefix):
        """A copy of self.raw0 (the owner's newest sent message, or a template)
        under a new Message-ID and the Date `date` (in the header only)."""
        raw = with_new_id(self.raw0, b"%s-%d" % (prefix, k))
        m = re.search(rb"\r?\n\r?\n", raw)
        end = m.start() if m else len(raw)
        raw = re.sub(rb"(?im)^date:.*$", b"Date: " + date.encode(), raw[:end], count=1) + raw[end:]
        with open(os.path.join(self.new, "cur", "s%d:2,S" % k), "wb") as f:
            f.write(raw)

    def run_steps(self, steps, relabel=None):
        """Each step's action, `notmuch new`, then the incremental scan against
        a full rescan (documents, through `relabel` when given, and the stored
        fingerprints); prints a line a step, returns how many differ."""
        bad = 0
        for k, (label, act) in enumerate(steps):
            time.sleep(1.1)   # a new second: notmuch new sees the folders' mtimes move
            r = act()
            if isinstance(r, str) and r.startswith("no "):
                label += " (%s)" % r
            self.nm("new", "--quiet", "--no-hooks")
            a, phases = self.scan(self.inc)
            full_state = os.path.join(self.tmp, "full-%d" % k)
            b, _ = self.scan(full_state, full=True)
            same = (relabel(a) == relabel(b)) if relabel else a == b
            fp_same = fingerprints(self.inc) == fingerprints(full_state)
            bad += not same or not fp_same
            verdict = "identical" if same else "DIFFERENT"
            if not fp_same:
                verdict += " FP-DIFFERS"
            print("%-18s %-22s %-44s %s" % (self.name, label, phases, verdict), flush=True)
        return bad
