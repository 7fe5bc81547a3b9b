#!/usr/bin/env python3
"""Measure what the candidate prefilter of `bouncewatch scan` misses.

Usage: bench/prefilter-recall.py --bin PATH SCENARIO_DIR...

For each scenario directory made by shared/scenarios/gen.py, takes the
program's own query (`bouncewatch scan --print-query`), runs it with notmuch
and compares the candidates with the reports listed in truth.json (for
measuring only: the program never reads truth.json).  A missed report is
then parsed with `bouncewatch parse --json` to tell prefilter misses (the
parser would have recognised it) from parser misses.  Prints, per scenario:
reports, candidates, recall of the query, extra candidates (parsed for
nothing), and the formats of the misses.  Exits 77 without notmuch.
"""
import argparse, collections, json, os, shutil, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("dirs", nargs="+")
a = ap.parse_args()
if shutil.which("notmuch") is None:
    print("SKIP: notmuch not found")
    sys.exit(77)
worst = 1.0
for d in a.dirs:
    truth = json.load(open(os.path.join(d, "truth.json")))
    reports = {m["message_id"]: m for m in truth["messages"]
               if m["class"] in ("legitimate", "backscatter")}
    env = dict(os.environ, NOTMUCH_CONFIG=os.path.join(d, "notmuch-config"))
    query = subprocess.run([a.bin, "scan", "--print-query"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    out = subprocess.run(["notmuch", "search", "--exclude=false", "--output=messages", query],
                         env=env, capture_output=True, text=True, check=True).stdout
    got = {l[3:] for l in out.splitlines() if l.startswith("id:")}
    missed = [m for k, m in reports.items() if k not in got]
    rec = 1 - len(missed) / max(1, len(reports))
    worst = min(worst, rec)
    kinds = collections.Counter()
    prefilter_only = 0
    for m in missed:
        p = subprocess.run([a.bin, "parse", "--json", os.path.join(d, m["file"])],
                           capture_output=True, text=True).stdout.splitlines()
        parsed = bool(p) and json.loads(p[0]).get("bounce")
        prefilter_only += bool(parsed)
        kinds[(m.get("kind"), m.get("format"), "parser-would-find" if parsed else "parser-misses-too")] += 1
    print("%s seed=%s: reports=%d candidates=%d query_recall=%.4f extra=%d "
          "missed_by_query_only=%d" % (truth["scenario"], truth["seed"], len(reports), len(got),
                                       rec, len(got - set(reports)), prefilter_only))
    for (k, f, why), n in kinds.most_common(12):
        print("   missed %3d kind=%s format=%s (%s)" % (n, k, f, why))
print("worst query recall: %.4f" % worst)
