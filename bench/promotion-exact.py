#!/usr/bin/env python3
"""promotion-exact.py: the post-new hook when new mail promotes a stored
report (its spam run's other members arrive after it), against a full
rescan, on generated mailboxes.

  promotion-exact.py --bin BOUNCEWATCH DIR...

The case incremental-exact.py does not reach: a report stored as
undetermined that the group stage promotes to backscatter once the rest of
its spam run is in the mailbox ("the same spam run", "the middle of a
burst").  In the hook its item is kept, built from its snapshot entry (a
slim item), and promoted: it must be made whole again before it is written
(session 15: this failed the hook's save, "cannot save the scan state", at
every hook until another command saved).

For each DIR (a mailbox of shared/scenarios/gen.py, copied to a temporary
directory) that holds such a report:
  1. a full scan finds a promoted report P and its run's other members;
  2. the members are moved out of the mailbox (`notmuch new`), the hook
     builds the state (P undetermined), `scan --json` reads it (nothing
     new);
  3. the members come back (`notmuch new`) and the hook runs: it must not
     fail, warn or print a GLib critical, and its state (items,
     snap_items, campaigns, tagged, meta but the hook's own keys) must be
     the same rows as the state `scan --json --tag` saves from the same
     state before the hook; `scan --json` on it must equal
     `scan --json --full`.
A DIR without a promoted report is skipped (said so).
Exit status: 0 all identical, 1 a difference or a failed hook, 64 usage.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import scenario_copy  # noqa: E402
from staterows import state_rows  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("dirs", nargs="+")
args = ap.parse_args()
binp = os.path.abspath(args.bin)

# the evidence texts of a promotion by the group stage (campaign.c)
PROMOTED = ("same spam run", "middle of a burst")


def run(env, state, *cmd):
    e = dict(env, XDG_DATA_HOME=state, XDG_CACHE_HOME=os.path.join(state, "cache"))
    return subprocess.run([binp] + list(cmd), env=e, capture_output=True, text=True)


def scan_doc(env, state, *extra):
    p = run(env, state, "scan", "--json", *extra)
    if p.returncode != 0:
        sys.exit("promotion-exact: scan failed (%d): %s" % (p.returncode, p.stderr[-500:]))
    doc = json.loads(p.stdout)
    doc.pop("revision", None)
    return doc


bad = 0
for d in args.dirs:
    d = os.path.abspath(d)
    name = os.path.basename(d.rstrip("/"))
    with tempfile.TemporaryDirectory(prefix="bw-promexact-") as tmp:
        box, _, env = scenario_copy(d, tmp)

        def notmuch_new():
            subprocess.run(["notmuch", "new", "--quiet", "--no-hooks"], env=env, check=True)

        probe = scan_doc(env, os.path.join(tmp, "probe"), "--full")
        promoted = [b for b in probe.get("bounces", []) if b.get("campaign") and
                    any(w in e for e in b.get("evidence", []) for w in PROMOTED)]
        if not promoted:
            print("%-18s skipped: no promoted report" % name)
            continue
        p0 = promoted[0]
        held = [b["file"] for b in probe["bounces"]
                if b.get("campaign") == p0["campaign"] and b["message_id"] != p0["message_id"]
                and b.get("file") and os.path.exists(b["file"])]
        aside = os.path.join(tmp, "aside")
        os.makedirs(aside)
        for k, f in enumerate(held):
            shutil.move(f, os.path.join(aside, str(k)))
        notmuch_new()
        inc = os.path.join(tmp, "inc")
        first = run(env, inc, "hook", "post-new", "--no-notify")
        if first.returncode != 0:
            sys.exit("promotion-exact: %s: the first hook failed: %s" % (name, first.stderr[-500:]))
        was = [b for b in scan_doc(env, inc).get("bounces", [])
               if b["message_id"] == p0["message_id"]]
        for k, f in enumerate(held):
            shutil.move(os.path.join(aside, str(k)), f)
        notmuch_new()
        ref = os.path.join(tmp, "ref")
        shutil.copytree(inc, ref, symlinks=True)
        e = dict(env, BOUNCEWATCH_DEBUG_TIMING="1")
        hooked = run(e, inc, "hook", "post-new", "--no-notify")
        problems = []
        if hooked.returncode != 0 or "scan failed" in hooked.stderr or \
                "CRITICAL" in hooked.stderr or "WARNING" in hooked.stderr:
            problems.append("HOOK-FAILED(%d: %s)" % (hooked.returncode,
                                                    hooked.stderr.strip().splitlines()[-1:]))
        scan_doc(env, ref, "--tag")
        got, want = state_rows(inc), state_rows(ref)
        if got != want:
            problems.append("STATE-DIFFERS(%s)" % ",".join(t for t in want if got[t] != want[t]))
        a = scan_doc(env, inc)
        b = scan_doc(env, os.path.join(tmp, "full"), "--full")
        if a != b:
            problems.append("DIFFERS: " + ", ".join(k for k in sorted(set(a) | set(b))
                                                    if a.get(k) != b.get(k)))
        how = " ".join(l.split("timing:")[1].split()[0] for l in hooked.stderr.splitlines()
                       if "timing: stored" in l or "timing: classify" in l)
        now_p = [x["class"] for x in a.get("bounces", []) if x["message_id"] == p0["message_id"]]
        print("%-18s %d members back, P %s -> %s  %-32s %s" % (
            name, len(held), was[0]["class"] if was else "-", now_p[0] if now_p else "-",
            how or "-", "identical" if not problems else " ".join(problems)))
        bad += bool(problems)
sys.exit(1 if bad else 0)
