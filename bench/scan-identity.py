#!/usr/bin/env python3
"""scan-identity.py: whether two builds give the same `scan --json` on the
nine public scenarios: a full scan with an empty state, then the next run
(answered from the state the first one stored).  For a change meant to be
a pure speed change (issue 10: the output stays byte-identical to the
parent).

  bench/scan-identity.py OLD NEW [--scenarios DIR] [--scale K]

OLD and NEW are `bouncewatch` programs (each with its reader and modules
next to it, as in a build tree).  The scenarios are made by the shared
scenarios/gen.py (seeds 101-109, public templates, scale 1 by default)
into a temporary directory, or taken from DIR (DIR/NAME, as made before:
nothing there is changed).  Each build runs on its own copy of each
mailbox (mailcopy.scenario_copy: the scenario's "now", no session bus),
with a private state; the copy's directory is replaced by DIR in the
output before the comparison.

Exit status: 0 when all 18 outputs (and exit codes) are the same (also
when the shared material is absent: skipped), 1 when one differs, 64 on a
usage error."""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import scenario_copy  # noqa: E402
from shareddir import shared_dir  # noqa: E402

SCENARIOS = [("calm", 101), ("spoofing", 102), ("compromise", 103), ("no-sent-copies", 104),
             ("newsletter", 105), ("catchall", 106), ("mixed", 107), ("quiet-compromise", 108),
             ("security-noise", 109)]


def scan_twice(prog, scenario, tmp):
    """The outputs of a full scan and of the next run, each with its exit
    code, on a copy of the scenario in tmp."""
    box, _, env = scenario_copy(scenario, tmp)
    for var, sub in (("HOME", "home"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_RUNTIME_DIR", "run")):
        env[var] = os.path.join(tmp, sub)
        os.makedirs(env[var], mode=0o700, exist_ok=True)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    runs = []
    for _ in range(2):
        r = subprocess.run([prog, "scan", "--json"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        runs.append(r.stdout.replace(box.encode(), b"DIR") + b"\nexit %d\n" % r.returncode)
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--scenarios", help="the scenarios, made before (DIR/NAME)")
    ap.add_argument("--scale", default="1")
    a = ap.parse_args()
    for p in (a.old, a.new):
        if not os.access(p, os.X_OK):
            print(f"scan-identity.py: {p} is not a program; pass BUILDDIR/bouncewatch", file=sys.stderr)
            return 64
    with tempfile.TemporaryDirectory(prefix="bw-scan-identity.") as tmp:
        scen_dir = a.scenarios
        if scen_dir is None:
            gen = os.path.join(shared_dir(), "scenarios", "gen.py")
            if not os.path.isfile(gen):
                print(f"scan-identity.py: SKIP: {gen} not found (the shared material is absent)")
                return 0
            scen_dir = os.path.join(tmp, "scenarios")
            for name, seed in SCENARIOS:
                r = subprocess.run([sys.executable, gen, "--scenario", name, "--seed", str(seed),
                                    "--scale", a.scale, "--templates", "public",
                                    "--out", os.path.join(scen_dir, name)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                if r.returncode != 0:
                    print(f"scan-identity.py: gen.py failed for {name}:\n{r.stdout.decode()}", file=sys.stderr)
                    return 1
        same = differ = 0
        for name, _ in SCENARIOS:
            scenario = os.path.join(scen_dir, name)
            if not os.path.isfile(os.path.join(scenario, "notmuch-config")):
                print(f"scan-identity.py: {scenario}/notmuch-config not found; make the scenarios "
                      "with gen.py or leave out --scenarios", file=sys.stderr)
                return 64
            outs = []
            for which, prog in (("old", a.old), ("new", a.new)):
                work = os.path.join(tmp, f"{which}-{name}")
                outs.append(scan_twice(os.path.abspath(prog), scenario, work))
            for run in range(2):
                if outs[0][run] == outs[1][run]:
                    same += 1
                else:
                    differ += 1
                    print(f"different: {name}, run {run + 1}")
        print(f"scan-identity.py: {same} identical, {differ} different")
        return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
