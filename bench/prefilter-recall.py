#!/usr/bin/env python3
"""Measure what the candidate prefilter of `bouncewatch scan` misses.

Usage: prefilter-recall.py QUERYFILE SCENARIO_DIR...

QUERYFILE holds the notmuch query (as printed by `bouncewatch scan
--print-prefilter`).  For each scenario directory made by
shared/scenarios/gen.py, runs the query with notmuch and compares the
candidates with the reports listed in truth.json (measurement only: the
program never reads truth.json).  Prints recall, candidates, and the kinds and
formats of the missed reports.  Exits 77 when notmuch is missing.
"""
import collections, json, os, shutil, subprocess, sys

if shutil.which("notmuch") is None:
    sys.exit(77)
query = open(sys.argv[1]).read().strip()
for d in sys.argv[2:]:
    truth = json.load(open(os.path.join(d, "truth.json")))
    reports = {m["message_id"]: m for m in truth["messages"]
               if m["class"] in ("legitimate", "backscatter")}
    env = dict(os.environ, NOTMUCH_CONFIG=os.path.join(d, "notmuch-config"))
    out = subprocess.run(["notmuch", "search", "--exclude=false", "--output=messages", query],
                         env=env, capture_output=True, text=True, check=True).stdout
    got = {l[3:] for l in out.splitlines() if l.startswith("id:")}
    missed = [m for k, m in reports.items() if k not in got]
    rec = 1 - len(missed) / max(1, len(reports))
    print("%s: reports=%d candidates=%d recall=%.4f extra=%d" %
          (truth["scenario"], len(reports), len(got), rec, len(got - set(reports))))
    for (k, f), n in collections.Counter((m.get("kind"), m.get("format")) for m in missed).most_common(15):
        print("   missed %3d kind=%s format=%s" % (n, k, f))
