#!/usr/bin/env python3
"""incremental-exact.py: an incremental scan after new mail gives what a full
rescan gives, on generated mailboxes (the check T210 makes on its fixture,
on the shapes of shared/scenarios).

  incremental-exact.py --bin BOUNCEWATCH [--seed N] DIR...

Each DIR is a mailbox made by shared/scenarios/gen.py (DIR/notmuch-config,
DIR/mail, DIR/truth.json).  It is copied to a temporary directory (so keep
them small: --scale 1), then, with a private state and BOUNCEWATCH_NOW = the
scenario's "now":
  1. `scan --json` (the state is built);
  2. new mail arrives: copies, with new Message-IDs, of 5 reports and 5
     ordinary messages (some from people the reports name);
  3. `scan --json` (incremental: stored verdicts kept where the new mail
     cannot change them) against `scan --json --full` on another state;
  4. one more report copy arrives and a message is removed; again;
  5. the user reads 3 old messages (`notmuch tag -unread`: with
     synchronize_flags their files are renamed, and they are in the
     lastmod range though not new); again;
  6. the user marks 2 old messages unread again, and an old report is
     removed, in the same step (the removal must not pass for a tag
     change); again;
  7. 2 old messages re-tagged and 1 new report copy; again.
The documents must be identical but for "revision".

With --hook the incremental runs are the post-new hook's (`hook post-new
--no-notify`: its kept items are slim, built from their snapshot entries,
bw_item_t.slim), each followed by `scan --json` on that state (nothing new
then: from the stored state) for the comparison; and a third state follows
the same steps with `scan --json --tag` (whole items): after each step the
two states' rows (items, snap_items, campaigns, tagged, and the meta but
the hook's own keys) must be the same bytes ("STATE-DIFFERS" otherwise).

With --snap, after each step a run with nothing new at a later "now" (a day
on) on a copy of the incremental state must be served from the snapshot the
incremental saves kept (snapshot.c: the entries beside the rows) and equal
a full rescan at that "now" ("SNAP-DIFFERS", "SNAP-NOT-SERVED" otherwise).

With --tag the incremental runs are `scan --json --tag` (the tag stage
compares only the items whose tags can change), and after each step a
`scan --json --full --tag` on a copy of the incremental state must find no
tag to write: the notmuch database's tags (`notmuch dump`) stay the same.  Prints one line per
mailbox and step, with the classify timing line that says how many stored
verdicts were kept ("classify+kept", "classify+some", "classify") and the
learning line (`learn+stored`: the profile took the stored reports' lessons
from the state, `learn`: it read every report).
Exit status: 0 all identical, 1 a difference, 64 usage.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailcopy import scenario_copy, with_new_id  # noqa: E402
from staterows import state_rows  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--seed", type=int, default=10)
ap.add_argument("--tag", action="store_true")
ap.add_argument("--snap", action="store_true")
ap.add_argument("--hook", action="store_true")
ap.add_argument("dirs", nargs="+")
args = ap.parse_args()
binp = os.path.abspath(args.bin)


def later_now(now):
    # a day after an RFC 3339 "now"
    import datetime
    t = datetime.datetime.fromisoformat(now.replace("Z", "+00:00"))
    return (t + datetime.timedelta(days=1)).isoformat()


def scan(env, state, full=False, tag=False, phases=None):
    e = dict(env, XDG_DATA_HOME=state, XDG_CACHE_HOME=os.path.join(state, "cache"),
             BOUNCEWATCH_DEBUG_TIMING="1")
    p = subprocess.run([binp, "scan", "--json"] + (["--full"] if full else []) +
                       (["--tag"] if tag else []), env=e,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("incremental-exact: scan failed (%d): %s" % (p.returncode, p.stderr[-500:]))
    line = next((l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                 if "timing: classify" in l), "-")
    # and whether the profile's learning took the stored lessons
    line += next((" " + l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                  if "timing: learn" in l), "")
    if phases is not None:
        phases.extend(l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                      if "timing:" in l)
    doc = json.loads(p.stdout)
    doc.pop("revision", None)
    return doc, line


def hook(env, state):
    e = dict(env, XDG_DATA_HOME=state, XDG_CACHE_HOME=os.path.join(state, "cache"),
             BOUNCEWATCH_DEBUG_TIMING="1")
    p = subprocess.run([binp, "hook", "post-new", "--no-notify"], env=e,
                       capture_output=True, text=True)
    if p.returncode != 0 or "scan failed" in p.stderr or "CRITICAL" in p.stderr \
            or "WARNING" in p.stderr:
        sys.exit("incremental-exact: hook failed (%d): %s" % (p.returncode, p.stderr[-800:]))
    return " ".join(l.split("timing:")[1].split()[0] for l in p.stderr.splitlines()
                    if "timing: classify" in l or "timing: learn" in l or "timing: stored" in l)


def copy_with_new_id(src, dst, tag):
    raw = with_new_id(open(src, "rb").read(), tag.encode())
    open(dst, "wb").write(raw)


bad = 0
rng = random.Random(args.seed)
for d in args.dirs:
    d = os.path.abspath(d)
    name = os.path.basename(d.rstrip("/"))
    with tempfile.TemporaryDirectory(prefix="bw-incexact-") as tmp:
        box, _, env = scenario_copy(d, tmp)
        inc_state, full_state = os.path.join(tmp, "inc"), os.path.join(tmp, "full")
        ref_state = os.path.join(tmp, "ref")
        scan(env, inc_state, tag=args.tag or args.hook)
        if args.hook:
            shutil.copytree(inc_state, ref_state, symlinks=True)
        msgs = json.load(open(os.path.join(box, "truth.json")))["messages"]
        reps = [m for m in msgs if m["class"] in ("backscatter", "legitimate")]
        ham = [m for m in msgs if m["class"] == "ham"]
        new = os.path.join(box, "mail", "bench-incexact")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(new, sub), exist_ok=True)
        picks = rng.sample(reps, min(5, len(reps))) + rng.sample(ham, min(5, len(ham)))
        for k, m in enumerate(picks):
            copy_with_new_id(os.path.join(box, m["file"]),
                             os.path.join(new, "cur", "n%d:2,S" % k), "incexact%d" % k)
        subprocess.run(["notmuch", "new", "--quiet", "--no-hooks"], env=env, check=True)
        def notmuch(*a):
            return subprocess.run(["notmuch"] + list(a), env=env, check=True,
                                  capture_output=True, text=True).stdout

        def old_ids(query, n):
            # old messages (not this bench's copies), in a stable order
            ids = notmuch("search", "--output=messages", "--sort=oldest-first",
                          "(%s) and not path:bench-incexact/**" % query).split()
            return rng.sample(ids, min(n, len(ids)))

        def retag(query, op, n):
            ids = old_ids(query, n)
            if ids:
                notmuch("tag", op, "--", *ids)
            return ids

        steps = [("10 new", None)]
        if reps:
            steps.append(("1 new, 1 removed", reps))
        steps.append(("3 read (retag)", "retag"))
        steps.append(("2 retag, 1 rm old", "retag-rm"))
        steps.append(("2 retag, 1 new", "retag-new"))
        for label, pool in steps:
            if pool == "retag":
                retag("tag:unread", "-unread", 3)
            elif pool == "retag-rm":
                kept = retag("not tag:unread", "+unread", 2)
                # an old report removed: its files as notmuch holds them now
                victims = [i for i in old_ids("tag:bw/backscatter or subject:undeliverable or "
                                              "subject:failure or subject:returned", 4)
                           if i not in kept]
                before_n = int(notmuch("count", "*"))
                # notmuch new looks again at a directory whose mtime moved
                # to a later second than the one it recorded
                time.sleep(1.1)
                if victims:
                    for f in notmuch("search", "--output=files", victims[0]).split("\n"):
                        if f and os.path.exists(f):
                            os.unlink(f)
                notmuch("new", "--quiet", "--no-hooks")
                if not victims or int(notmuch("count", "*")) != before_n - 1:
                    sys.exit("incremental-exact: %s: no old report was removed (%r, %d -> %s)" % (name, victims[:1], before_n, notmuch("count", "*").strip()))
            elif pool == "retag-new":
                retag("*", "+bench-retag", 2)
                m = rng.choice(reps or ham)
                copy_with_new_id(os.path.join(box, m["file"]),
                                 os.path.join(new, "cur", "later2:2,S"), "incexact-later2")
                notmuch("new", "--quiet", "--no-hooks")
            elif pool is not None:
                m = rng.choice(pool)
                copy_with_new_id(os.path.join(box, m["file"]),
                                 os.path.join(new, "cur", "later:2,S"), "incexact-later")
                os.unlink(os.path.join(new, "cur", "n9:2,S") if os.path.exists(
                    os.path.join(new, "cur", "n9:2,S")) else os.path.join(new, "cur", "n0:2,S"))
                subprocess.run(["notmuch", "new", "--quiet", "--no-hooks"], env=env, check=True)
            state_diff = ""
            if args.hook:
                hooked = hook(env, inc_state)
                scan(env, ref_state, tag=True)
                got, want = state_rows(inc_state), state_rows(ref_state)
                if got != want:
                    state_diff = " STATE-DIFFERS(%s)" % ",".join(t for t in want
                                                                 if got[t] != want[t])
                    if os.environ.get("BW_DEBUG_STATE"):
                        for t in want:
                            print(t, [r[0] for r in sorted(set(got[t]) ^ set(want[t]))][:12])
                a, _ = scan(env, inc_state, tag=args.tag)
                how = hooked or "-"
            else:
                a, how = scan(env, inc_state, tag=args.tag)
            shutil.rmtree(full_state, ignore_errors=True)
            b, _ = scan(env, full_state, full=True)
            same = a == b
            tags_same = True
            if args.tag:
                # a full tagging run on a copy of the incremental state finds
                # nothing left to write
                check = os.path.join(tmp, "tagcheck")
                shutil.rmtree(check, ignore_errors=True)
                shutil.copytree(inc_state, check, symlinks=True)
                dump = lambda: subprocess.run(["notmuch", "dump"], env=env, check=True,
                                              capture_output=True).stdout
                before = dump()
                scan(env, check, full=True, tag=True)
                tags_same = dump() == before
                if not tags_same:
                    same = False
                    how += " TAGS-DIFFER"
            if args.snap:
                # nothing new at a later "now": served from the kept snapshot
                check = os.path.join(tmp, "snapcheck")
                shutil.rmtree(check, ignore_errors=True)
                shutil.copytree(inc_state, check, symlinks=True)
                later = dict(env, BOUNCEWATCH_NOW=later_now(env["BOUNCEWATCH_NOW"]))
                phases = []
                c, _ = scan(later, check, phases=phases)
                shutil.rmtree(check, ignore_errors=True)
                d_full, _ = scan(later, check, full=True)
                if "snapshot" not in phases:
                    same = False
                    how += " SNAP-NOT-SERVED"
                if c != d_full:
                    same = False
                    how += " SNAP-DIFFERS"
            if state_diff:
                same = False
                how += state_diff
            bad += not same
            print("%-18s %-16s %-27s %s" % (name, label, how,
                                            "identical" if same else "DIFFERS: " +
                                            ", ".join(k for k in sorted(set(a) | set(b))
                                                      if a.get(k) != b.get(k))))
sys.exit(1 if bad else 0)
