#!/usr/bin/env python3
"""bench/leave-one-family-out.py: how well bouncewatch reads the reports of
a server family when the vendor-table row of that family is switched off,
i.e. by the rest of the parser (the generic reader above all).

    bench/leave-one-family-out.py [--loo PATH] [--corpus DIR] [--expected FILE]
                                  [--ham DIR] [--stress DIR] [--list N] [--json]

For each family row of the vendor tables (`loo-parse --list-families`),
the shared-corpus files of that family (the names say it:
lhost-<family>-NN.eml, rhost-<provider>-NN.eml; a few names differ from
the row's, see ALIASES) are parsed by bench/loo-parse with that row off;
expected.jsonl (Sisimai's reading) is the reference.  Reported per family
and overall: files still detected as a report, and files whose recipient
set agrees with the reference.  Targets (issue 8): >= 95% detected, >= 90%
right recipients.  With --ham / --stress, the same ordinary mail is also
parsed with EVERY row off: the generic reader alone must call none of it a
report.

bench/loo-parse is built by `make check` (never installed: only it and the
unit tests set the switch that turns rows off, bw_vendor_row_off).  Defaults: BUILDDIR/bench/loo-parse,
corpus/set-of-emails of the shared material (bench/shared-dir.sh:
$BW_SHARED, else ../shared next to the source tree or the main worktree),
tests/corpus/ham-stress.  When the shared corpus is absent the script says so and exits 0.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)


from shareddir import shared_dir  # noqa: E402  (bench/shareddir.py)


SHARED = os.path.join(shared_dir(), "corpus")

# Family rows whose files carry another name in the corpus.
ALIASES = {
    "exchange2007": ["exchange2007", "office365", "microsoft"],
    "1and1": ["einsundeins"],
    "sendmail": ["sendmail", "v5sendmail"],
    "gmail": ["gmail", "googleworkspace", "google", "gsuite"],
    "docomo": ["nttdocomo"],
}


def find_loo(given):
    for cand in (given, os.path.join(SRCDIR, "build", "bench", "loo-parse"),
                 os.path.join(SRCDIR, "bench", "loo-parse")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def run(loo, args, files):
    out = collections.defaultdict(list)
    if not files:
        return out
    proc = subprocess.run([loo] + args + ["--"] + files, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        out[obj.get("file")].append(obj)
    return out


def family_of(name):
    """lhost-exim-12.eml -> exim; rhost-google-03.eml -> google."""
    base = os.path.basename(name)
    parts = base.split("-")
    if len(parts) < 3 or parts[0] not in ("lhost", "rhost"):
        return None
    return "-".join(parts[1:-1]).lower()


def pct(n, d):
    return "%6.2f%%" % (100.0 * n / d) if d else "   n/a "


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loo", help="bench/loo-parse binary (default: build/bench/loo-parse)")
    ap.add_argument("--corpus", help="directory of bounces (default: shared set-of-emails)")
    ap.add_argument("--expected", help="reference JSON Lines (default: CORPUS/../expected.jsonl)")
    ap.add_argument("--ham", help="ordinary mail parsed with every row off (default: shared ham)")
    ap.add_argument("--stress", help="more ordinary mail (default: tests/corpus/ham-stress)")
    ap.add_argument("--list", type=int, default=20, help="misses listed")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()

    loo = find_loo(args.loo)
    if loo is None:
        print("leave-one-family-out: bench/loo-parse not built (run `make check`, or give --loo)",
              file=sys.stderr)
        return 2
    corpus = args.corpus or os.path.join(SHARED, "set-of-emails", "bounces")
    if not os.path.isdir(corpus):
        print("leave-one-family-out: %s is absent; nothing to measure (skipped)" % corpus)
        return 0
    expected_path = args.expected or os.path.join(os.path.dirname(corpus), "expected.jsonl")
    expected = {}
    with open(expected_path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                expected[rec["file"]] = rec

    families = subprocess.run([loo, "--list-families"], stdout=subprocess.PIPE, text=True,
                              check=True).stdout.split()
    names = sorted(n for n in os.listdir(corpus) if n.endswith(".eml"))
    totals = collections.Counter()
    rows = []
    misses = []
    for fam in families:
        keys = ALIASES.get(fam, [fam])
        mine = [n for n in names if family_of(n) in keys and (expected.get(n) or {}).get("bounce")]
        if not mine:
            continue
        paths = [os.path.join(corpus, n) for n in mine]
        got = run(loo, ["--without", fam], paths)
        det = rcp = rcp_n = 0
        for n, p in zip(mine, paths):
            res = got.get(p, [])
            ref = expected[n]
            found = any(r.get("bounce") for r in res)
            det += found
            ref_rcpts = [rc for rc in ref.get("recipients", []) if rc.get("address")]
            if ref_rcpts:
                rcp_n += 1
                ours = {rc.get("address") for r in res for rc in (r.get("recipients") or []) if rc.get("address")}
                sure = {rc["address"] for rc in ref_rcpts if not rc.get("sisimai_suspect")}
                n_ref = len({rc["address"] for rc in ref_rcpts})
                ok = sure <= ours and len(ours) == n_ref
                rcp += ok
                if not ok or not found:
                    misses.append("%-14s %s ours=%s ref=%s" % (fam, n, sorted(ours),
                                                              sorted(rc["address"] for rc in ref_rcpts)))
            elif not found:
                misses.append("%-14s %s not detected" % (fam, n))
        rows.append((fam, len(mine), det, rcp, rcp_n))
        totals["files"] += len(mine)
        totals["detected"] += det
        totals["rcpt"] += rcp
        totals["rcpt_n"] += rcp_n

    print("leave-one-family-out: %s, each family's row off in turn (%s)" % (corpus, loo))
    print("  %-16s %5s %9s %9s" % ("family", "files", "detected", "recipients"))
    for fam, n, det, rcp, rcp_n in rows:
        print("  %-16s %5d %9s %9s" % (fam, n, pct(det, n), pct(rcp, rcp_n)))
    print("  %-16s %5d %9s %9s   targets >= 95%% / >= 90%%" % (
        "overall", totals["files"], pct(totals["detected"], totals["files"]),
        pct(totals["rcpt"], totals["rcpt_n"])))
    if misses:
        print("\nmisses: %d" % len(misses))
        for line in misses[: args.list]:
            print("  " + line)

    ham_figures = {}
    for label, d in (("ham", args.ham if args.ham is not None else os.path.join(SHARED, "ham")),
                     ("stress", args.stress if args.stress is not None
                      else os.path.join(SRCDIR, "tests", "corpus", "ham-stress"))):
        if not d or not os.path.isdir(d):
            continue
        files = sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith("."))
        got = run(loo, ["--without-all"], files)
        bad = [os.path.basename(p) for p in files if any(r.get("bounce") for r in got.get(p, []))]
        ham_figures[label] = (len(bad), len(files))
        print("\n%s with every row off: %d report(s) in %d ordinary messages (target 0)%s" % (
            label, len(bad), len(files), (": " + ", ".join(bad[:10])) if bad else ""))
    if args.json:
        print(json.dumps({"families": {f: {"files": n, "detected": d, "rcpt": r, "rcpt_n": rn}
                                       for f, n, d, r, rn in rows},
                          "overall": dict(totals), "ham": ham_figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
