#!/usr/bin/env python3
"""Score the signals core (tests/tools/bw-signal-probe) against the shared
scenario generator's truth (generator v3).

    bench/signals-eval.py [--probe PATH] [--seeds 101-109] [--scenarios a,b]
                          [--out DIR] [--keep] [--verbose]

For every scenario and seed: generate the mailbox with
scenarios/gen.py of the shared material (bench/shared-dir.sh: $BW_SHARED,
else ../shared next to the source tree or the main worktree; no notmuch index: the probe reads the
files), run the probe over DIR/mail with the owner's addresses from
DIR/notmuch-config, and compare with DIR/truth.json:

  signal_recall     true signals (class "signal": provider notices, people
                    answering mail the owner never sent) listed by message id
  kind_ok           of those, listed with the right kind
  false_signals     listed signals that are no true signal, plus
                    sent-anomaly entries whose members are < 90% the
                    hijacker's Sent copies (class "spam-sent")
  phish_caught      true imitations (class "phish") named as phishing
  phish_false       messages named as phishing that are not imitations
  anomaly_precision members of sent anomalies that are the hijacker's
  anomaly_coverage  the hijacker's Sent copies named as members
  status            "compromise" or "clear" from the signals alone, against
                    the scenario's expectation where signals decide it
                    (quiet-compromise: compromise; security-noise, calm,
                    newsletter, no-sent-copies: clear)

Skips cleanly (exit 0, a note on stderr) without the shared material or the probe.
Generation is the slow part (seconds per mailbox); --keep reuses DIR.
"""
import argparse
import configparser
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


from shareddir import shared_dir  # noqa: E402  (bench/shareddir.py)


SHARED = shared_dir()
SCENARIOS = ["calm", "compromise", "mixed", "quiet-compromise", "security-noise", "newsletter", "no-sent-copies"]
EXPECT = {"quiet-compromise": True, "security-noise": False, "calm": False, "newsletter": False,
          "no-sent-copies": False}


def seeds_arg(s):
    out = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def find_probe(arg):
    cands = [arg] if arg else []
    cands += [os.path.join(TOP, "build", "tests", "tools", "bw-signal-probe"),
              os.path.join(TOP, "tests", "tools", "bw-signal-probe")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    return None


def owners_of(cfg_path):
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(cfg_path)
    own = [cp.get("user", "primary_email", fallback="")]
    own += [x for x in cp.get("user", "other_email", fallback="").split(";") if x]
    return [o for o in own if o]


def norm(mid):
    return mid.strip().strip("<>") if isinstance(mid, str) else None


def score(truth, doc):
    msgs = truth["messages"]
    cls = {m["message_id"]: m for m in msgs}
    true_sig = {m["message_id"]: m for m in msgs if m["class"] == "signal"}
    phish = {m["message_id"] for m in msgs if m["class"] == "phish"}
    spam_sent = {m["message_id"] for m in msgs if m["class"] == "spam-sent"}
    r = {"true_signals": len(true_sig), "false_signals": 0, "kind_ok": 0, "found": 0, "false_detail": [],
         "missed": []}
    listed = {}
    members = set()
    for s in doc.get("signals", []):
        if s.get("kind") == "sent-anomaly":
            mem = {norm(x) for x in s.get("members", [])}
            members |= mem
            if len(mem & spam_sent) < 0.9 * len(mem):
                r["false_signals"] += 1
                r["false_detail"].append("sent-anomaly with %d/%d hijacker members" % (len(mem & spam_sent), len(mem)))
            continue
        mid = norm(s.get("message_id"))
        if mid in listed:
            continue
        listed[mid] = s
        if mid not in true_sig:
            r["false_signals"] += 1
            r["false_detail"].append("%s %s (%s)" % (s.get("kind"), mid, cls.get(mid, {}).get("class")))
        elif s.get("kind") == true_sig[mid].get("signal"):
            r["kind_ok"] += 1
        else:
            r["false_detail"].append("wrong kind %s for %s %s" % (s.get("kind"), true_sig[mid].get("signal"), mid))
    found = set(listed) & set(true_sig)
    r["found"] = len(found)
    r["missed"] = ["%s %s" % (true_sig[m].get("signal"), m) for m in sorted(set(true_sig) - found)]
    r["signal_recall"] = len(found) / len(true_sig) if true_sig else 1.0
    r["signal_kind_ok"] = r["kind_ok"] / len(found) if found else 1.0
    named = {norm(p.get("message_id")) for p in doc.get("phishing", [])}
    r["phish_total"] = len(phish)
    r["phish_caught"] = len(named & phish)
    r["phish_false"] = len(named - phish)
    r["phish_false_detail"] = ["%s (%s)" % (m, cls.get(m, {}).get("class")) for m in sorted(named - phish)]
    r["spam_sent"] = len(spam_sent)
    r["members"] = len(members)
    r["anomaly_precision"] = len(members & spam_sent) / len(members) if members else 1.0
    r["anomaly_coverage"] = len(members & spam_sent) / len(spam_sent) if spam_sent else 1.0
    r["compromise"] = bool(doc.get("assessment", {}).get("compromise"))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe")
    ap.add_argument("--seeds", default="101-109", type=seeds_arg)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--out", default="/tmp/bw-signals-eval")
    ap.add_argument("--keep", action="store_true", help="reuse generated mailboxes in --out")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--styles", metavar="DIR",
                    help="a directory holding a bw_signals_hidden.py of your own (other notice wordings and "
                         "replies): generate with it (gen.py --templates all)")
    a = ap.parse_args()
    gen = os.path.join(SHARED, "scenarios", "gen.py")
    if not os.path.isfile(gen):
        sys.stderr.write("signals-eval: %s not found; skipping\n" % gen)
        return 0
    probe = find_probe(a.probe)
    if probe is None:
        sys.stderr.write("signals-eval: bw-signal-probe not built (make -C build tests/tools/bw-signal-probe); "
                         "skipping\n")
        return 0
    os.makedirs(a.out, exist_ok=True)
    total = {"true": 0, "found": 0, "kind_ok": 0, "false": 0, "phish": 0, "phish_caught": 0, "phish_false": 0,
             "spam_sent": 0, "members": 0, "members_ok": 0, "status_bad": 0}
    print("%-17s %4s  %-7s %-7s %-5s %-9s %-6s %-9s %-9s %-8s %5s" % (
        "scenario", "seed", "recall", "kind_ok", "false", "phish", "phishF", "anomP", "anomC", "status", "secs"))
    for scn in a.scenarios.split(","):
        for seed in a.seeds:
            d = os.path.join(a.out, "%s-%d" % (scn, seed))
            if not (a.keep and os.path.isfile(os.path.join(d, "truth.json"))):
                cmd = [sys.executable, gen, "--scenario", scn, "--seed", str(seed), "--out", d, "--no-index"]
                env = dict(os.environ)
                if a.styles:
                    cmd += ["--templates", "all"]
                    env["PYTHONPATH"] = os.path.abspath(a.styles) + os.pathsep + env.get("PYTHONPATH", "")
                p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
                if p.returncode != 0:
                    sys.stderr.write("signals-eval: gen.py failed for %s %d: %s\n" % (scn, seed, p.stderr[-500:]))
                    return 1
            truth = json.load(open(os.path.join(d, "truth.json")))
            cmd = [probe, "--json"]
            for o in owners_of(os.path.join(d, "notmuch-config")):
                cmd += ["--owner", o]
            cmd.append(os.path.join(d, "mail"))
            t0 = time.time()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            secs = time.time() - t0
            if p.returncode not in (0, 1):
                sys.stderr.write("signals-eval: probe failed on %s: %s\n" % (d, p.stderr[-500:]))
                return 1
            doc = json.loads(p.stdout)
            r = score(truth, doc)
            exp = EXPECT.get(scn)
            st = "-" if exp is None else ("ok" if r["compromise"] == exp else "WRONG")
            if st == "WRONG":
                total["status_bad"] += 1
            print("%-17s %4d  %-7.3f %-7.3f %-5d %-9s %-6d %-9.3f %-9.3f %-8s %5.2f" % (
                scn, seed, r["signal_recall"], r["signal_kind_ok"], r["false_signals"],
                "%d/%d" % (r["phish_caught"], r["phish_total"]), r["phish_false"], r["anomaly_precision"],
                r["anomaly_coverage"], st if exp is not None else ("comp" if r["compromise"] else "clear"), secs))
            if a.verbose or r["false_signals"] or r["missed"] or r["phish_false"] or \
                    r["phish_caught"] < r["phish_total"] or st == "WRONG":
                for x in r["false_detail"]:
                    print("    false: %s" % x)
                for x in r["missed"]:
                    print("    missed: %s" % x)
                for x in r["phish_false_detail"]:
                    print("    phishing, but not an imitation: %s" % x)
                if r["phish_caught"] < r["phish_total"]:
                    print("    imitations not named: %d" % (r["phish_total"] - r["phish_caught"]))
            total["true"] += r["true_signals"]
            total["found"] += r["found"]
            total["kind_ok"] += r["kind_ok"]
            total["false"] += r["false_signals"]
            total["phish"] += r["phish_total"]
            total["phish_caught"] += r["phish_caught"]
            total["phish_false"] += r["phish_false"]
            total["spam_sent"] += r["spam_sent"]
            total["members"] += r["members"]
            total["members_ok"] += round(r["anomaly_precision"] * r["members"])
    t = total
    print("TOTAL signal_recall=%.3f kind_ok=%.3f false_signals=%d phish_caught=%d/%d phish_false=%d "
          "anomaly_precision=%.3f anomaly_coverage=%.3f status_wrong=%d" % (
              t["found"] / t["true"] if t["true"] else 1.0, t["kind_ok"] / t["found"] if t["found"] else 1.0,
              t["false"], t["phish_caught"], t["phish"], t["phish_false"],
              t["members_ok"] / t["members"] if t["members"] else 1.0,
              t["members_ok"] / t["spam_sent"] if t["spam_sent"] else 1.0, t["status_bad"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
