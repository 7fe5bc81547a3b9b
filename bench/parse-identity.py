#!/usr/bin/env python3
"""parse-identity.py: whether two builds read every message the same way:
`parse --json` over the shared corpus (bounces and ham) and N mutated copies
of it, with both, compared line by line.  For a change meant to be a pure
speed change (issue 10: the output stays byte-identical to the parent).

  bench/parse-identity.py OLD NEW [--n 20000] [--seed 1] [--dir DIR] [--keep]

OLD and NEW are `bouncewatch` programs (each with its reader next to it, as
in a build tree).  The mutations are random but reproducible by seed: bytes
changed, lines deleted or repeated, two messages spliced, case changed,
cut short, boundaries and charsets damaged, CRLF line ends, and inserted
NULs, encoded-word starts, UTF-8 lead bytes, typographic apostrophes,
delivery-status fields, long runs of blanks or '<'.  The mutated files go to
DIR (default: a temporary directory, removed unless --keep).

Exit status: 0 when every line is the same (also when the shared corpus is
absent: skipped), 1 when a line differs (the first ones are printed), 64 on
a usage error."""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shareddir import shared_dir  # noqa: E402

CHARSETS = [b"utf-8", b"iso-2022-jp", b"shift_jis", b"euc-jp", b"iso-8859-1", b"windows-1252",
            b"koi8-r", b"bogus"]
INSERTS = [b"\x00", b"=?utf-8?B?", b"\xe2\x80\x99", b"\xc3", b"Status: 5.1.1\n",
           b"Final-Recipient: rfc822; a@b\n", b"<" * 100, b" " * 5000, b"MAILER-DAEMON", b"\n--", b"=\n"]


def mutate(rnd, b, corpus):
    lines = b.split(b"\n")
    k = rnd.randrange(10)
    if k == 0 and b:
        ba = bytearray(b)
        for _ in range(rnd.randint(1, 20)):
            ba[rnd.randrange(len(ba))] = rnd.randrange(256)
        return bytes(ba)
    if k == 1 and len(lines) > 2:
        i = rnd.randrange(len(lines))
        del lines[i:i + rnd.randint(1, 5)]
        return b"\n".join(lines)
    if k == 2 and lines:
        i = rnd.randrange(len(lines))
        lines[i:i] = [lines[i]] * rnd.randint(1, 50)
        return b"\n".join(lines)
    if k == 3:
        other = rnd.choice(corpus)
        return b[:rnd.randrange(len(b) + 1)] + other[rnd.randrange(len(other) + 1):]
    if k == 4:
        if rnd.random() < 0.3:
            return b.swapcase()
        return b.replace(b"Content-Type", b"content-type").replace(b"boundary", b"BOUNDARY")
    if k == 5:
        return b[:rnd.randrange(len(b) + 1)]
    if k == 6:
        return b.replace(b"--", b"-", rnd.randint(1, 3))
    if k == 7:
        for c in CHARSETS:
            if c in b.lower():
                return b.replace(c, rnd.choice(CHARSETS))
        return b.replace(b"\n\n", b"\n", 1)
    if k == 8:
        return b.replace(b"\n", b"\r\n") if rnd.random() < 0.5 else b.replace(b"\n\n", b"\n", 1)
    i = rnd.randrange(len(b) + 1)
    return b[:i] + rnd.choice(INSERTS) + b[i:]


def parse_all(prog, files):
    """`parse --json` of the files, 2,000 a process (the argument list's
    limit): the output lines."""
    lines = []
    for s in range(0, len(files), 2000):
        r = subprocess.run([prog, "parse", "--json"] + files[s:s + 2000],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lines += r.stdout.split(b"\n")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--n", type=int, default=20000, help="mutated messages (default 20000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", help="where the mutated files go")
    ap.add_argument("--keep", action="store_true", help="keep the mutated files")
    a = ap.parse_args()
    for p in (a.old, a.new):
        if not os.access(p, os.X_OK):
            print(f"parse-identity.py: {p} is not a program; pass BUILDDIR/bouncewatch", file=sys.stderr)
            return 64
    corpus_dir = os.path.join(shared_dir(), "corpus")
    dirs = [os.path.join(corpus_dir, d) for d in ("set-of-emails/bounces", "ham")]
    if not os.path.isdir(dirs[0]):
        print(f"parse-identity.py: SKIP: {dirs[0]} not found (the shared corpus is absent)")
        return 0
    srcs = []
    for d in dirs:
        if os.path.isdir(d):
            srcs += sorted(os.path.join(d, f) for f in os.listdir(d)
                           if f.endswith((".eml", ".txt", ".msg")))
    corpus = []
    for f in srcs:
        with open(f, "rb") as fh:
            corpus.append(fh.read())
    out = a.dir or tempfile.mkdtemp(prefix="bw-parse-identity.")
    os.makedirs(out, exist_ok=True)
    try:
        rnd = random.Random(a.seed)
        files = list(srcs)
        for i in range(a.n):
            m = rnd.choice(corpus)
            for _ in range(rnd.randint(1, 3)):
                m = mutate(rnd, m, corpus)
            p = os.path.join(out, f"m{i:06d}.eml")
            with open(p, "wb") as fh:
                fh.write(m)
            files.append(p)
        old, new = parse_all(a.old, files), parse_all(a.new, files)
    finally:
        if not a.keep and not a.dir:
            shutil.rmtree(out, ignore_errors=True)
    diff = [(x, y) for x, y in zip(old, new) if x != y]
    n_diff = len(diff) + abs(len(old) - len(new))
    print(f"parse-identity.py: {len(files)} inputs ({len(srcs)} of the corpus, {a.n} mutated, "
          f"seed {a.seed}); output lines {len(old)} / {len(new)}; different lines {n_diff}")
    for x, y in diff[:5]:
        print("  old:", x[:400].decode("utf-8", "replace"))
        print("  new:", y[:400].decode("utf-8", "replace"))
    return 0 if n_diff == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
