#!/usr/bin/env python3
"""bench/parse-accuracy.py: how `bouncewatch parse --json` reads a corpus of
bounces, compared with a reference reading (expected.jsonl, Sisimai 5's view:
one parser's reading, not ground truth), plus a corpus of ordinary mail that
must give no bounce at all.

    bench/parse-accuracy.py [--bin PATH] [--corpus DIR] [--expected FILE]
                            [--ham DIR] [--list N] [--json]

Defaults: corpus/set-of-emails (bounces/ + expected.jsonl) and corpus/ham
of the shared material (bench/shared-dir.sh: $BW_SHARED, else ../shared
next to the source tree or next to the main worktree).  When they are absent the
script says so and exits 0 (the project's own tests never need them).

With --corpus DIR and no expected.jsonl next to it, only detection is
measured (every file under DIR, sub-directories included, is taken to be a
bounce; give ordinary mail with --ham).

Measures (targets of issue 2 in brackets):
  detected   files where the reference has a record and we say bounce [>= 99%]
  recipients files whose recipient set agrees (reference addresses marked
             sisimai_suspect, which Sisimai cuts short, only count by number)
             [>= 98%]
  status     recipients whose enhanced status agrees, where the reference
             gives one (Sisimai's own x.0.9xx pseudo codes are not RFC 3463
             codes and are not compared) [>= 95%]
  message-id files whose original Message-ID agrees, where the reference
             gives one [>= 98%]
  reason     recipients whose reason agrees through REASON_MAP below
             (reported; Sisimai's "undefined"/"onhold" are left out)
  ham        ordinary messages called a bounce [0]
Runs the program once per corpus (all files in one process).
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)


from shareddir import shared_dir  # noqa: E402  (bench/shareddir.py)


SHARED = os.path.join(shared_dir(), "corpus")

# Sisimai reason -> the SPEC.md reasons that say the same thing.  Sisimai has
# finer classes for some causes (rejected = the sender was refused, filtered =
# a recipient-side filter, often for an unknown user) that SPEC.md folds into
# broader ones; a set lists every reading we count as agreement.
REASON_MAP = {
    "userunknown": {"user-unknown"},
    "hasmoved": {"user-unknown"},
    "filtered": {"user-unknown", "content-rejected", "policy", "blocked", "spam"},
    "hostunknown": {"host-unknown"},
    "notaccept": {"host-unknown", "blocked", "policy"},
    "mailboxfull": {"mailbox-full"},
    "systemfull": {"mailbox-full", "system-error"},
    "mesgtoobig": {"message-too-large"},
    "exceedlimit": {"message-too-large", "mailbox-full"},
    "contenterror": {"content-rejected"},
    "notcompliantrfc": {"content-rejected", "policy"},
    "virusdetected": {"virus"},
    "spamdetected": {"spam"},
    "blocked": {"blocked"},
    "badreputation": {"blocked", "spam"},
    "requireptr": {"blocked", "policy"},
    "rejected": {"blocked", "policy", "auth-failure"},
    "norelaying": {"policy", "blocked"},
    "policyviolation": {"policy", "content-rejected"},
    "securityerror": {"auth-failure", "tls-error", "policy"},
    "authfailure": {"auth-failure"},
    "suspend": {"suspended"},
    "expired": {"expired"},
    "networkerror": {"network-error", "host-unknown"},
    "toomanyconn": {"rate-limited"},
    "speeding": {"rate-limited"},
    "systemerror": {"system-error"},
    "mailererror": {"system-error"},
    "syntaxerror": {"system-error", "policy"},
    "failedstarttls": {"tls-error"},
    "feedback": {"feedback"},
    "vacation": {"vacation"},
    "delivered": {"delivered"},
}
REASON_SKIP = {"undefined", "onhold"}


def find_bin(given):
    if given:
        return given
    if os.environ.get("BW_BIN"):
        return os.environ["BW_BIN"]
    for cand in (os.path.join(SRCDIR, "bouncewatch"), shutil.which("bouncewatch")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def run_parse(binary, files):
    """One process over all files; results grouped by file."""
    out = collections.defaultdict(list)
    if not files:
        return out
    proc = subprocess.run([binary, "parse", "--json", "--"] + files,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            print("warning: unparseable output line: %r" % line[:120], file=sys.stderr)
            continue
        out[obj.get("file")].append(obj)
    return out


def pct(n, d):
    return "%6.2f%%" % (100.0 * n / d) if d else "   n/a "


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="bouncewatch binary (default: $BW_BIN, ./bouncewatch, PATH)")
    ap.add_argument("--corpus", help="directory of bounces (default: shared set-of-emails)")
    ap.add_argument("--expected", help="reference JSON Lines (default: CORPUS/../expected.jsonl)")
    ap.add_argument("--ham", help="directory of ordinary mail (default: shared ham)")
    ap.add_argument("--list", type=int, default=40, help="disagreeing files listed per measure")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON too")
    args = ap.parse_args()

    corpus = args.corpus or os.path.join(SHARED, "set-of-emails", "bounces")
    if os.path.isdir(os.path.join(corpus, "bounces")):
        corpus = os.path.join(corpus, "bounces")
    ham = args.ham if args.ham is not None else os.path.join(SHARED, "ham")
    if not os.path.isdir(corpus):
        print("parse-accuracy: %s is absent; nothing to measure (skipped)" % corpus)
        return 0
    binary = find_bin(args.bin)
    if binary is None:
        print("parse-accuracy: no bouncewatch binary (build it, or give --bin)", file=sys.stderr)
        return 2
    expected_path = args.expected or os.path.join(os.path.dirname(corpus), "expected.jsonl")
    expected = {}
    if os.path.exists(expected_path):
        with open(expected_path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    expected[rec["file"]] = rec

    # Files of the corpus, sub-directories included (a set grouped by
    # family); names are relative to the corpus, as in expected.jsonl.
    names = []
    for root, dirs, files in os.walk(corpus):
        dirs.sort()
        for f in files:
            if not f.startswith("."):
                names.append(os.path.relpath(os.path.join(root, f), corpus))
    names.sort()
    paths = [os.path.join(corpus, n) for n in names]
    got = run_parse(binary, paths)

    counts = collections.Counter()
    bad = collections.defaultdict(list)
    reason_confusion = collections.Counter()
    for name, path in zip(names, paths):
        results = got.get(path, [])
        ours_bounce = any(r.get("bounce") for r in results)
        errors = [r.get("error") for r in results if r.get("error")]
        ref = expected.get(name)
        if ref is None:
            if expected:
                continue        # not in the reference at all
            ref = {"bounce": True, "recipients": [], "original": None}
        if not ref.get("bounce"):
            counts["ref_none"] += 1
            if ours_bounce:
                counts["ref_none_ours_bounce"] += 1
            continue
        counts["files"] += 1
        if ours_bounce:
            counts["detected"] += 1
        else:
            bad["detected"].append(name + (" (error: %s)" % errors[0] if errors else ""))
        if not expected:
            continue
        ours_rcpts = {}
        for r in results:
            for rc in r.get("recipients") or []:
                if rc.get("address"):
                    ours_rcpts.setdefault(rc["address"], rc)
        ref_rcpts = [rc for rc in ref.get("recipients", []) if rc.get("address")]
        if ref_rcpts:
            counts["rcpt_files"] += 1
            sure = {rc["address"] for rc in ref_rcpts if not rc.get("sisimai_suspect")}
            n_ref = len({rc["address"] for rc in ref_rcpts})
            if sure <= set(ours_rcpts) and len(ours_rcpts) == n_ref:
                counts["rcpt_agree"] += 1
            else:
                bad["recipients"].append("%s ours=%s ref=%s" % (
                    name, sorted(ours_rcpts), sorted(rc["address"] for rc in ref_rcpts)))
        for rc in ref_rcpts:
            mine = ours_rcpts.get(rc["address"])
            if rc.get("status"):
                counts["status_n"] += 1
                if mine is not None and mine.get("status") == rc["status"]:
                    counts["status_agree"] += 1
                else:
                    bad["status"].append("%s %s ours=%s ref=%s" % (
                        name, rc["address"], mine.get("status") if mine else "-", rc["status"]))
            sr = rc.get("sisimai_reason")
            if sr and sr not in REASON_SKIP:
                counts["reason_n"] += 1
                ours_reason = mine.get("reason") if mine else None
                if ours_reason in REASON_MAP.get(sr, set()):
                    counts["reason_agree"] += 1
                else:
                    reason_confusion[(sr, ours_reason)] += 1
                    bad["reason"].append("%s %s ours=%s ref=%s" % (name, rc["address"], ours_reason, sr))
        ref_mid = (ref.get("original") or {}).get("message_id")
        if ref_mid:
            counts["mid_n"] += 1
            ours_mids = {(r.get("original") or {}).get("message_id") for r in results}
            if ref_mid in ours_mids:
                counts["mid_agree"] += 1
            else:
                bad["message-id"].append("%s ours=%s ref=%s" % (name, sorted(m for m in ours_mids if m), ref_mid))

    ham_files = ham_bounces = 0
    ham_bad = []
    if ham and os.path.isdir(ham):
        hnames = sorted(n for n in os.listdir(ham) if os.path.isfile(os.path.join(ham, n)))
        hpaths = [os.path.join(ham, n) for n in hnames]
        hgot = run_parse(binary, hpaths)
        for n, p in zip(hnames, hpaths):
            ham_files += 1
            rs = hgot.get(p, [])
            if any(r.get("bounce") for r in rs):
                ham_bounces += 1
                r = next(r for r in rs if r.get("bounce"))
                ham_bad.append("%s kind=%s family=%s" % (n, r.get("kind"), r.get("family")))

    print("parse-accuracy: %s (%d files), reference %s" % (
        corpus, len(names), expected_path if expected else "none (detection only)"))
    print("  detected    %s  (%d/%d)   target >= 99%%" % (pct(counts["detected"], counts["files"]), counts["detected"], counts["files"]))
    if expected:
        print("  recipients  %s  (%d/%d)   target >= 98%%" % (pct(counts["rcpt_agree"], counts["rcpt_files"]), counts["rcpt_agree"], counts["rcpt_files"]))
        print("  status      %s  (%d/%d)   target >= 95%%" % (pct(counts["status_agree"], counts["status_n"]), counts["status_agree"], counts["status_n"]))
        print("  message-id  %s  (%d/%d)   target >= 98%%" % (pct(counts["mid_agree"], counts["mid_n"]), counts["mid_agree"], counts["mid_n"]))
        print("  reason      %s  (%d/%d)   (reported)" % (pct(counts["reason_agree"], counts["reason_n"]), counts["reason_agree"], counts["reason_n"]))
        if counts["ref_none"]:
            print("  files the reference finds nothing in: %d, we call a bounce: %d" % (counts["ref_none"], counts["ref_none_ours_bounce"]))
    if ham_files:
        print("  ham         %d bounce(s) in %d ordinary messages   target 0" % (ham_bounces, ham_files))
    else:
        print("  ham         (no ham corpus)")
    for key in ("detected", "recipients", "status", "message-id", "reason"):
        if bad[key]:
            print("\ndisagreeing (%s): %d" % (key, len(bad[key])))
            for line in bad[key][: args.list]:
                print("  " + line)
    if reason_confusion:
        print("\nreason confusion (sisimai -> ours):")
        for (sr, ours), n in reason_confusion.most_common(25):
            print("  %4d  %-16s -> %s" % (n, sr, ours))
    if ham_bad:
        print("\nham called a bounce:")
        for line in ham_bad:
            print("  " + line)
    if args.json:
        print(json.dumps({"files": counts["files"], "detected": counts["detected"],
                          "rcpt_files": counts["rcpt_files"], "rcpt_agree": counts["rcpt_agree"],
                          "status_n": counts["status_n"], "status_agree": counts["status_agree"],
                          "mid_n": counts["mid_n"], "mid_agree": counts["mid_agree"],
                          "reason_n": counts["reason_n"], "reason_agree": counts["reason_agree"],
                          "ham_files": ham_files, "ham_bounces": ham_bounces}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
