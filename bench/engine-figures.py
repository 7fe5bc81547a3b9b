#!/usr/bin/env python3
"""engine-figures.py: the figures of issue 10, each as a ratio to its floor
measured in the same run (see bench/engine-figures.sh, which builds what this
needs and passes the paths).

  engine-figures.py --data DIR --bin BOUNCEWATCH --floor SCAN_FLOOR
                    [--runs N] [--only hook-nothing,hook-new10,scan,flood]
                    [--flood 20000] [--keep-state DIR]

DIR is a mailbox made by shared/scenarios/gen.py (DIR/notmuch-config,
DIR/mail, DIR/truth.json).  Every bouncewatch run gets a private
XDG_DATA_HOME/XDG_CACHE_HOME, BOUNCEWATCH_NOW = the scenario's "now" and no
session bus (nothing is shown).  Times: wall (perf_counter around the child)
and CPU (user+sys of the child from wait4); peak RSS from wait4.  The runs
of a figure and of its floor alternate (ABAB...), medians are compared.

Figures (goal in brackets):
  hook-nothing  `hook post-new` with nothing new vs `notmuch count id:x`
                (a process that opens the same database and asks one
                question)                                         [<= 3x wall]
  hook-new10    `hook post-new` after 10 new messages (5 copies of reports
                with new Message-IDs, 5 of ordinary mail), CPU    [<= 50 ms]
  scan          `scan --json` with an empty state vs bench/scan-floor (the
                candidate query from C, GMime parse and decode of every
                candidate)                                        [<= 2x wall]
  scan+signals  the same scan runs vs `bench/scan-floor --signals`: the
                candidates plus the mail the scan's signals stage reads by
                design (SPEC 2b: every received message, the newest 20,000
                sent ones), listed as that stage lists it, each file parsed
                and decoded once with GMime                       [<= 2x wall]
  flood         N reports (default 20,000) delivered at once (copies of the
                biggest campaign's reports, dated over the last day): the
                hook that meets them (wall, CPU, RSS), then `hook post-new`
                with nothing new vs the floor                      [<= 3x]
                Its tag stage (BOUNCEWATCH_DEBUG_TIMING's `tag` line) is set
                against `notmuch tag --batch` writing the same tags (those
                of ours the hook left on the flood's messages, read back
                with `notmuch dump`) onto the same messages: they are taken
                off first (not timed), then the batch puts them back (timed,
                one process, --runs times), which leaves the mailbox as the
                hook left it.  notmuch tag also keeps maildir flags in step
                (maildir.synchronize_flags): part of its cost, as it is of
                any tagging client.
The mailbox is changed while measuring (a folder bench-new/ or bench-flood/
in it) and restored at the end (the folder removed, `notmuch new`).
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import with_new_id  # noqa: E402
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--bin", required=True)
ap.add_argument("--floor", required=True)
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("--only", default="hook-nothing,hook-new10,scan,flood")
ap.add_argument("--flood", type=int, default=20000)
ap.add_argument("--keep-state", default=None,
                help="use (and keep) this directory for the state instead of a temporary one")
args = ap.parse_args()

data = os.path.abspath(args.data)
mail = os.path.join(data, "mail")
only = set(args.only.split(","))


def bring_floor_up_to_date(floor):
    """The floor is not built by `make` (make bench-programs): one left from
    an older tree measures something else (a scan-floor from before
    --signals printed the candidates' floor for both lines).  In a build
    tree, make it (a no-op when it is up to date; `make -q` cannot tell
    here: automake's config.h rule always looks due to it)."""
    here = os.path.dirname(os.path.abspath(floor))
    build = os.path.dirname(here)
    if os.path.basename(here) != "bench" or not os.path.isfile(os.path.join(build, "Makefile")):
        return
    r = subprocess.run(["make", "-s", "-C", build, "bench/scan-floor"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("engine-figures: cannot build %s (make bench/scan-floor in %s): %s"
                 % (floor, build, (r.stderr.strip().splitlines() or ["?"])[-1]))


if "scan" in only:
    bring_floor_up_to_date(args.floor)


def scenario_now():
    # "now" is near the top of truth.json: no need to load the whole file.
    with open(os.path.join(data, "truth.json")) as f:
        head = f.read(65536)
    m = re.search(r'"now":\s*"([^"]+)"', head)
    return m.group(1)


NOW = scenario_now()
work = args.keep_state or tempfile.mkdtemp(prefix="bw-engine-figures.")
os.makedirs(work, exist_ok=True)
env = dict(os.environ)
env.update({
    "NOTMUCH_CONFIG": os.path.join(data, "notmuch-config"),
    "BOUNCEWATCH_NOW": NOW,
    "XDG_DATA_HOME": os.path.join(work, "data"),
    "XDG_CACHE_HOME": os.path.join(work, "cache"),
    "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bw-bench-bus",
    "LC_ALL": "C.UTF-8",
})
env.pop("DISPLAY", None)
env.pop("WAYLAND_DISPLAY", None)


def run(cmd, extra_env=None, stdout=None, stdin=None):
    """One child: (wall s, cpu s, peak RSS KiB).  posix_spawn (vfork-like),
    so that the child's peak RSS is its own and not this (big) process's
    copied at fork time."""
    e = env if extra_env is None else dict(env, **extra_env)
    err_path = os.path.join(work, "child.err")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin or "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout or "/dev/null", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    exe = shutil.which(cmd[0], path=e.get("PATH")) or cmd[0]
    t0 = time.perf_counter()
    pid = os.posix_spawn(exe, cmd, e, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err = open(err_path, errors="replace").read()
        sys.exit("engine-figures: %s exited %d: %s" % (" ".join(cmd), code, err[-2000:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def stage_ms(name):
    """A stage's time from the last child's BOUNCEWATCH_DEBUG_TIMING lines
    (the sum, should the stage run more than once), in seconds."""
    total = None
    with open(os.path.join(work, "child.err"), errors="replace") as f:
        for line in f:
            m = re.match(r"bouncewatch: timing: (\S+)\s+([0-9.]+) ms", line)
            if m and m.group(1) == name:
                total = (total or 0.0) + float(m.group(2)) / 1000.0
    return total


OURS = ("bounce", "backscatter")


def our_tags(tag):
    return tag in OURS or tag.startswith("bw/")


def flood_tag_batches(folder):
    """(take-off batch, put-back batch) for the tags of ours on the messages
    of `folder` (notmuch dump's batch-tag lines: tags and ids are
    already %-encoded as notmuch tag --batch reads them)."""
    out = subprocess.run(["notmuch", "dump", "--format=batch-tag", "--", "path:%s/**" % folder],
                         env=env, check=True, capture_output=True, text=True).stdout
    off, on = [], []
    for line in out.splitlines():
        if " -- " not in line:
            continue
        tags, query = line.split(" -- ", 1)
        mine = [t[1:] for t in tags.split() if t.startswith("+") and our_tags(
            urllib.parse.unquote(t[1:]))]
        if mine:
            off.append(" ".join("-" + t for t in mine) + " -- " + query)
            on.append(" ".join("+" + t for t in mine) + " -- " + query)
    return "\n".join(off) + "\n", "\n".join(on) + "\n"


def ms(x):
    return "%.1f ms" % (x * 1000)


def notmuch_new():
    subprocess.run(["notmuch", "new", "--quiet", "--no-hooks"], env=env, check=True)


def fresh_state():
    shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
    shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)


HOOK = [args.bin, "hook", "post-new"]
POINT = ["notmuch", "count", "id:bw-bench-no-such-message@example.invalid"]
results = []


def report(name, value, floor, goal_ratio=None, unit="wall", extra=""):
    ratio = value / floor if floor else float("nan")
    line = "%-13s %s %s vs floor %s: %.2fx" % (name, unit, ms(value), ms(floor), ratio)
    if goal_ratio:
        line += "  (goal <= %gx: %s)" % (goal_ratio, "met" if ratio <= goal_ratio else "MISSED")
    if extra:
        line += "  " + extra
    print(line, flush=True)
    results.append({"figure": name, "value_s": value, "floor_s": floor, "ratio": ratio})


def interleaved(a_cmd, b_cmd, n):
    a, b = [], []
    for _ in range(n):
        a.append(run(a_cmd))
        b.append(run(b_cmd))
    return a, b


def med(rows, k):
    return statistics.median(r[k] for r in rows)


def truth_messages():
    with open(os.path.join(data, "truth.json")) as f:
        return json.load(f)["messages"]


def copy_with_new_id(src_rel, tag, k, date=None):
    raw = with_new_id(open(os.path.join(data, src_rel), "rb").read(), tag + b".%d" % k)
    if date is not None:
        raw = re.sub(rb"(?im)^date:[^\n]*\n", b"Date: " + date.encode() + b"\n", raw, count=1)
    return raw


def rfc2822(ts):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(ts))


def iso_to_unix(s):
    import datetime
    return int(datetime.datetime.fromisoformat(s).timestamp())


def add_folder(name, blobs):
    d = os.path.join(mail, name)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    base = int(time.time() * 1000)
    for i, raw in enumerate(blobs):
        with open(os.path.join(d, "cur", "bench.%d.%d:2,S" % (base, i)), "wb") as f:
            f.write(raw)


def remove_folder(name):
    d = os.path.join(mail, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
        notmuch_new()


# ---------------------------------------------------------------- figures
try:
    print("mailbox %s: %s messages, now=%s" % (
        data, subprocess.run(["notmuch", "count", "*"], env=env, capture_output=True,
                             text=True).stdout.strip(), NOW), flush=True)

    if "scan" in only:
        # Empty state each time: the full scan.  One warm-up of each first.
        # The second floor (--signals) runs in the same rounds (ABC...).
        fresh_state()
        run([args.bin, "scan", "--json"])
        run([args.floor, "--quiet"])
        run([args.floor, "--quiet", "--signals"])
        a, b, c = [], [], []
        for _ in range(args.runs):
            fresh_state()
            a.append(run([args.bin, "scan", "--json"]))
            b.append(run([args.floor, "--quiet"]))
            c.append(run([args.floor, "--quiet", "--signals"]))
        report("scan", med(a, 0), med(b, 0), 2,
               extra="(cpu %s vs %s, peak RSS %d vs %d KiB)" % (
                   ms(med(a, 1)), ms(med(b, 1)), max(r[2] for r in a), max(r[2] for r in b)))
        report("scan+signals", med(a, 0), med(c, 0), 2,
               extra="(cpu %s vs %s, peak RSS %d vs %d KiB)" % (
                   ms(med(a, 1)), ms(med(c, 1)), max(r[2] for r in a), max(r[2] for r in c)))

    if only & {"hook-nothing", "hook-new10"}:
        fresh_state()
        run(HOOK)          # builds the state and tags (not measured)
        run(HOOK)          # our own tags moved the revision: accounted for
    if "hook-nothing" in only:
        run(POINT)
        a, b = interleaved(HOOK, POINT, args.runs)
        report("hook-nothing", med(a, 0), med(b, 0), 3,
               extra="(cpu %s vs %s, peak RSS %d KiB)" % (ms(med(a, 1)), ms(med(b, 1)),
                                                          max(r[2] for r in a)))

    if "hook-new10" in only:
        msgs = truth_messages()
        rng = random.Random(10)
        reps = [m for m in msgs if m["class"] in ("backscatter", "legitimate")]
        ham = [m for m in msgs if m["class"] == "ham"]
        del msgs
        cpu, wall = [], []
        try:
            for r in range(args.runs):
                blobs = [copy_with_new_id(m["file"], b"bench-new%d" % r, k)
                         for k, m in enumerate(rng.sample(reps, 5) + rng.sample(ham, 5))]
                add_folder("bench-new", blobs)
                notmuch_new()
                w, c, rss = run(HOOK)
                cpu.append(c)
                wall.append(w)
        finally:
            remove_folder("bench-new")
        c = statistics.median(cpu)
        print("%-13s cpu %s (wall %s; runs: %s)  (goal <= 50 ms cpu: %s)" % (
            "hook-new10", ms(c), ms(statistics.median(wall)),
            " ".join("%.0f" % (x * 1000) for x in cpu), "met" if c <= 0.050 else "MISSED"),
            flush=True)
        results.append({"figure": "hook-new10", "cpu_s": c})

    if "flood" in only:
        msgs = truth_messages()
        camp = {}
        for m in msgs:
            if m["class"] == "backscatter" and m.get("campaign"):
                camp.setdefault(m["campaign"], []).append(m)
        del msgs
        big = max(camp.values(), key=len)
        now = iso_to_unix(NOW)
        rng = random.Random(20000)
        fresh_state()
        run(HOOK)
        run(HOOK)
        try:
            blobs = (copy_with_new_id(big[k % len(big)]["file"], b"bench-flood", k,
                                      rfc2822(now - rng.randint(60, 86400)))
                     for k in range(args.flood))
            add_folder("bench-flood", blobs)
            t0 = time.time()
            notmuch_new()
            print("flood: %d reports indexed in %.0f s" % (args.flood, time.time() - t0), flush=True)
            w, c, rss = run(HOOK, {"BOUNCEWATCH_DEBUG_TIMING": "1"})
            tag_s = stage_ms("tag")
            print("%-13s the hook that meets the flood: wall %.2f s, cpu %.2f s, peak RSS %d KiB"
                  % ("flood", w, c, rss), flush=True)
            results.append({"figure": "flood-hook", "wall_s": w, "cpu_s": c, "rss_kib": rss})
            # The tag stage's floor: notmuch tag --batch writing the same
            # tags onto the same messages.
            off, on = flood_tag_batches("bench-flood")
            off_file = os.path.join(work, "tags-off.batch")
            on_file = os.path.join(work, "tags-on.batch")
            open(off_file, "w").write(off)
            open(on_file, "w").write(on)
            floors = []
            for _ in range(args.runs):
                run(["notmuch", "tag", "--batch"], stdin=off_file)
                floors.append(run(["notmuch", "tag", "--batch"], stdin=on_file))
            if tag_s is not None:
                report("flood-tag", tag_s, med(floors, 0),
                       extra="(%d messages; floor cpu %s)" % (on.count("\n"), ms(med(floors, 1))))
            else:
                print("flood-tag     no 'tag' timing line from the hook", flush=True)
            run(HOOK)      # our tags of the flood (and the floor's): accounted for
            run(POINT)
            a, b = interleaved(HOOK, POINT, args.runs)
            report("flood-after", med(a, 0), med(b, 0), 3,
                   extra="(cpu %s, peak RSS %d KiB)" % (ms(med(a, 1)), max(r[2] for r in a)))
        finally:
            remove_folder("bench-flood")
finally:
    if args.keep_state is None:
        shutil.rmtree(work, ignore_errors=True)
print("JSON " + json.dumps(results))
