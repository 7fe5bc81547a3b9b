#!/bin/bash
# T090-hostile.sh: `bouncewatch parse --json` on hostile input.
#
# Mail is attacker-written.  Each input below must give a result or a clear
# error line, in bounded time and memory, and must not stop the rest of the
# batch from being reported (shared/SPEC.md section 1: every input gets its
# line, in order, and the exit status is 1 when one of them is an error).
# The inputs are generated here, in a temporary directory, at test time:
#   empty file, binary garbage, a 50 MB message, a message over the 64 MiB
#   limit, 10,000 nested multiparts, a 1 MB header line, an invalid charset,
#   truncated base64, a report whose original is itself, a 1 MB single-line
#   body, NUL bytes, an mbox with a broken message in the middle, 100,000
#   recipients in one DSN, oversized input on stdin; a bomb past each
#   structural cap of bw.h (deep and wide JSON, nested address groups and
#   comments, address lists, MIME parameters and RFC 2231 sections, encoded
#   words per field and per message), each refused with the cap named, and
#   sane mail near the same caps, read in full (a long date is a size: no
#   date, the rest read); read errors (a FIFO, /proc/self/mem); an mbox
#   with damaged messages (an error line each, at its own index);
# plus every reproducer kept under tests/fuzz/crashes/parse/ (mail the parse fuzzer flagged).
# A good DSN comes last: its line must be there and correct.
#
# Environment: BW_BIN, BW_SRCDIR (from make check).  BW_SANITIZED=1 (set by
# .ci/run's ASan build) lifts the address-space limit, which ASan cannot run
# under, and stretches the time limits.
set -euo pipefail

BW_BIN=${BW_BIN:-}
BW_SRCDIR=${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "$BW_BIN" ] || [ ! -x "$BW_BIN" ]; then
    echo "SKIP: bouncewatch binary not built (BW_BIN='$BW_BIN')"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 not found (it generates the inputs and checks the JSON)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-hostile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Limits.  The 50 MB message dominates: GMime holds it in memory while it
# parses, the core scans at most BW_MAX_SCAN_BYTES of each part.
TIME_LIMIT=60          # seconds for the whole batch
FILE_TIME_LIMIT=20     # seconds for any single input
VMEM_LIMIT_KB=$((2048 * 1024))
RSS_LIMIT_KB=$((768 * 1024))
if [ "${BW_SANITIZED:-0}" = 1 ]; then
    TIME_LIMIT=600
    FILE_TIME_LIMIT=300
    RSS_LIMIT_KB=$((3072 * 1024))
fi

fail=0
failmsg() { echo "FAIL: $*"; fail=1; }

# ---------------------------------------------------------------- inputs
python3 "$BW_SRCDIR/tests/e2e/hostile-inputs.py" "$tmp"

# Read errors: a FIFO without a writer (must not hold the batch in open()),
# and /proc/self/mem, a regular file whose read() at offset 0 fails with
# EIO (nothing is mapped at address 0): a real read error without a broken
# disk.  Both must be error lines, never a truncated mail read as a result.
mkfifo "$tmp/40-fifo.eml"
# The good file goes last, after any fuzzer reproducers.
inputs=()
for f in "$tmp"/[0-9][0-9]-*; do
    [ "$f" = "$tmp/99-good.eml" ] || inputs+=("$f")
done
if [ -r /proc/self/mem ]; then
    inputs+=(/proc/self/mem)
fi
# Fuzzer findings become regression inputs (tests/fuzz/run.sh, README).
if [ -d "$BW_SRCDIR/tests/fuzz/crashes/parse" ]; then
    for f in "$BW_SRCDIR"/tests/fuzz/crashes/parse/*; do
        case "$f" in *.md) continue ;; esac
        [ -f "$f" ] && inputs+=("$f")
    done
fi
inputs+=("$tmp/99-good.eml")

# Runs bouncewatch under the time and memory limits; peak RSS (KiB) goes
# to $tmp/rss when /usr/bin/time exists.
run_limited() {
    local limit=$1
    shift
    rm -f "$tmp/rss"
    (
        if [ "${BW_SANITIZED:-0}" != 1 ]; then ulimit -v "$VMEM_LIMIT_KB"; fi
        if [ -x /usr/bin/time ]; then
            exec timeout -k 5 "$limit" /usr/bin/time -o "$tmp/rss" -f '%M' "$@"
        else
            exec timeout -k 5 "$limit" "$@"
        fi
    )
}

# ---------------------------------------------------------------- each input alone
for f in "${inputs[@]}"; do
    name=${f##*/}
    rc=0
    t0=$(date +%s%N)
    run_limited "$FILE_TIME_LIMIT" "$BW_BIN" parse --json "$f" >"$tmp/one.out" 2>"$tmp/one.err" </dev/null || rc=$?
    t1=$(date +%s%N)
    rss=$(tail -n1 "$tmp/rss" 2>/dev/null || echo '?')
    printf '%-26s exit %-3s %6d ms  peak RSS %s KiB\n' "$name" "$rc" $(( (t1 - t0) / 1000000 )) "$rss"
    case "$rc" in
        0|1) ;;
        124|137) failmsg "$name: no answer within ${FILE_TIME_LIMIT}s" ;;
        *) failmsg "$name: exit status $rc (crash or abort?)"; head -c 2000 "$tmp/one.err" ;;
    esac
    if [ "$rss" != '?' ] && [ "$rss" -gt "$RSS_LIMIT_KB" ]; then
        failmsg "$name: peak RSS $rss KiB over $RSS_LIMIT_KB KiB"
    fi
    if [ ! -s "$tmp/one.out" ]; then
        failmsg "$name: no output line"
    fi
    # A GLib critical is a g_return_if_fail() in GLib/GMime tripping: the
    # core handed it something invalid.  A bug, even when the output is fine.
    if grep -q -- '-CRITICAL \*\*' "$tmp/one.err"; then
        failmsg "$name: $(grep -m1 -- '-CRITICAL \*\*' "$tmp/one.err")"
    fi
    # The reader process contains a crash or a hang (CONTAINMENT in
    # bouncewatch(1)), which would turn a bug into a mere error line here:
    # hostile input must be handled by the parser, never by containment.
    if grep -qE 'the reader (crashed|stopped)|took (more than|too long)|answered garbage|invalid answer' "$tmp/one.err"; then
        failmsg "$name: $(grep -m1 -E 'reader|took' "$tmp/one.err")"
    fi
    errsize=$(stat -c %s "$tmp/one.err")
    if [ "$errsize" -gt 65536 ]; then
        failmsg "$name: $errsize bytes on stderr (a warning flood)"
    fi
done

# ---------------------------------------------------------------- one batch
rc=0
run_limited "$TIME_LIMIT" "$BW_BIN" parse --json "${inputs[@]}" >"$tmp/batch.out" 2>"$tmp/batch.err" </dev/null || rc=$?
if grep -qE 'the reader (crashed|stopped)|took (more than|too long)|answered garbage|invalid answer' "$tmp/batch.err"; then
    failmsg "batch: $(grep -m1 -E 'reader|took' "$tmp/batch.err")"
fi
echo "batch of ${#inputs[@]} inputs: exit $rc, peak RSS $(tail -n1 "$tmp/rss" 2>/dev/null || echo '?') KiB"
if [ "$rc" -ne 1 ]; then
    failmsg "batch: exit status $rc, expected 1 (some inputs are errors, none may crash)"
fi

# stdin: garbage and an oversized stream, each a clean error or result.
rc=0
run_limited "$FILE_TIME_LIMIT" "$BW_BIN" parse --json - <"$tmp/02-garbage.bin" >"$tmp/stdin1.out" 2>/dev/null || rc=$?
[ "$rc" -le 1 ] || failmsg "stdin garbage: exit status $rc"
rc=0
run_limited "$FILE_TIME_LIMIT" "$BW_BIN" parse --json - <"$tmp/04-too-large.eml" >"$tmp/stdin2.out" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || failmsg "stdin over the size limit: exit status $rc, expected 1"

# ---------------------------------------------------------------- the lines
printf '%s\n' "${inputs[@]}" >"$tmp/inputs.txt"
if ! python3 - "$tmp" <<'PYEOF'
import json, sys, os
d = sys.argv[1]
# File names are bytes; the "file" member can only carry them as valid
# UTF-8 (invalid bytes replaced), so names are compared on their ASCII part.
def ascii_key(name):
    return "".join(c for c in name if ord(c) < 128)
inputs = open(os.path.join(d, "inputs.txt"), "rb").read().decode("utf-8", "replace").split("\n")[:-1]
problems = []
def problem(msg):
    problems.append(msg)

def load(path):
    out = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                out.append(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as e:
                problem("%s line %d is not JSON (%s): %r" % (os.path.basename(path), n, e, raw[:200]))
    return out

lines = load(os.path.join(d, "batch.out"))
for o in lines:
    if not isinstance(o, dict) or "file" not in o or "error" not in o or "bounce" not in o:
        problem("line without file/bounce/error: %r" % (str(o)[:200],))
    elif o["error"] is not None:
        if not isinstance(o["error"], str) or not o["error"].strip() or "\n" in o["error"]:
            problem("%s: unclear error %r" % (o["file"], o["error"]))
    elif not isinstance(o["bounce"], bool):
        problem("%s: bounce is %r" % (o["file"], o["bounce"]))

# Every input has its line(s), in input order.
order = []
for o in lines:
    f = ascii_key(o.get("file") or "")
    if not order or order[-1] != f:
        order.append(f)
if order != [ascii_key(i) for i in inputs]:
    missing = [i for i in inputs if ascii_key(i) not in order]
    problem("inputs missing or out of order in the batch output; missing: %s" %
            [os.path.basename(m) for m in missing])

by = {}
for o in lines:
    by.setdefault(os.path.basename(o.get("file", "")), []).append(o)
def one(name):
    got = by.get(name, [])
    if len(got) != 1:
        problem("%s: %d lines, expected 1" % (name, len(got)))
        return {}
    return got[0]

if one("01-empty.eml").get("error") is None:
    problem("01-empty.eml: no error for an empty file")
if one("04-too-large.eml").get("error") is None:
    problem("04-too-large.eml: no error for a file over 64 MiB")
big = one("03-50mb.eml")
if big.get("error") is None and not big.get("bounce"):
    problem("03-50mb.eml: a 50 MB DSN under the limit is neither parsed as a bounce nor an error")
# The body of a mail is not a reason to lose its headers and delivery status.
for name, addr in (("06-long-header.eml", "lh@example.net"),
                   ("09-self-report.eml", "loop@example.net")):
    o = one(name)
    if o.get("error") is not None:
        continue
    if not o.get("bounce") or addr not in [r.get("address") for r in o.get("recipients") or []]:
        problem("%s: expected a bounce naming %s, got %s" % (name, addr, json.dumps(o)[:300]))
many = one("13-many-recipients.eml")
if many.get("error") is None and len(many.get("recipients") or []) > 1000:
    problem("13-many-recipients.eml: %d recipients, more than BW_MAX_RECIPIENTS" % len(many["recipients"]))

mbox = by.get("12-broken.mbox", [])
addrs = {r.get("address") for o in mbox for r in (o.get("recipients") or [])}
for a in ("first@example.net", "third@example.net"):
    if a not in addrs:
        problem("12-broken.mbox: the good message to %s around the broken one was not reported" % a)
if mbox and any(o.get("index") is None for o in mbox if o.get("error") is None):
    problem("12-broken.mbox: mbox lines without index")

# Structural bombs: refused, with the cap named (caps.c, bw.h).
REFUSED = {
    "20-json-deep.eml": "BW_MAX_JSON_DEPTH",
    "21-json-wide.eml": "BW_MAX_JSON_VALUES",
    "24-group-bomb-attached.eml": "BW_MAX_ADDRESS_GROUP_DEPTH",
    "25-group-bomb-report.eml": "BW_MAX_ADDRESS_GROUP_DEPTH",
    "26-group-bomb-original.eml": "BW_MAX_ADDRESS_GROUP_DEPTH",
    "27-comment-bomb.eml": "BW_MAX_ADDRESS_COMMENT_DEPTH",
    "28-address-list-bomb.eml": "BW_MAX_ADDRESSES",
    "29-param-bomb.eml": "BW_MAX_MIME_PARAMS",
    "30-rfc2231-bomb.eml": "BW_MAX_RFC2231_SECTIONS",
    "31-encoded-words-bomb.eml": "BW_MAX_ENCODED_WORDS",
    "32-encoded-words-total.eml": "BW_MAX_ENCODED_WORDS_TOTAL",
}
for name, cap in sorted(REFUSED.items()):
    o = one(name)
    err = o.get("error") or ""
    if not err.startswith("refused: ") or cap not in err:
        problem("%s: expected an error line naming %s, got %s" % (name, cap, json.dumps(o)[:300]))
# Sane inputs near the caps: read in full (recipient, count).
SANE = {
    "22-json-sane-deep.eml": ("deep@example.net", 1),
    "23-json-sane-wide.eml": ("r999@example.net", 1000),
    "33-long-date.eml": ("caps@example.net", 1),
    "34-sane-groups.eml": ("caps@example.net", 1),
    "35-sane-names.eml": ("caps@example.net", 1),
    "36-sane-rfc2231.eml": ("caps@example.net", 1),
    "37-sane-date.eml": ("caps@example.net", 1),
    "38-header-names-one-hash.eml": ("caps@example.net", 1),
}
for name, (addr, count) in sorted(SANE.items()):
    o = one(name)
    got = [r.get("address") for r in o.get("recipients") or []]
    if o.get("error") is not None or not o.get("bounce") or addr not in got or len(got) != count:
        problem("%s: expected a bounce naming %s (%d recipients), got %s" %
                (name, addr, count, json.dumps(o)[:300]))

dm = by.get("41-damaged.mbox", [])
if [o.get("index") for o in dm] != [0, 1, 2, 3, 4]:
    problem("41-damaged.mbox: indexes %s, expected 0 to 4" % [o.get("index") for o in dm])
else:
    want = [("first@example.net", None), (None, ""), ("third@example.net", None),
            (None, "BW_MAX_ADDRESS_GROUP_DEPTH"), ("fifth@example.net", None)]
    for o, (addr, err) in zip(dm, want):
        got = [r.get("address") for r in o.get("recipients") or []]
        if addr is not None and (o.get("error") is not None or addr not in got):
            problem("41-damaged.mbox [%d]: expected %s, got %s" % (o["index"], addr, json.dumps(o)[:200]))
        if err is not None and (not o.get("error") or err not in o["error"]):
            problem("41-damaged.mbox [%d]: expected an error line (%s), got %s" % (o["index"], err, json.dumps(o)[:200]))
if "not a regular file" not in (one("40-fifo.eml").get("error") or ""):
    problem("40-fifo.eml: a FIFO is not an error line: %s" % by.get("40-fifo.eml"))
if "/proc/self/mem" in inputs and "read error" not in (one("mem").get("error") or ""):
    problem("/proc/self/mem: a read error is not an error line: %s" % by.get("mem"))
if one("33-long-date.eml").get("message", {}).get("date") is not None:
    problem("33-long-date.eml: a 100 KB date was read as a date")
if (one("37-sane-date.eml").get("message") or {}).get("date") != "2026-11-19T09:12:44+09:00":
    problem("37-sane-date.eml: the date with a long comment was not read")
if "caps@example.net" not in ((one("34-sane-groups.eml").get("original") or {}).get("to") or []):
    problem("34-sane-groups.eml: the original's To in groups was not read")

good = one("99-good.eml")
if good.get("error") is not None or not good.get("bounce") or good.get("kind") != "dsn":
    problem("99-good.eml: the good DSN after the hostile inputs is wrong: %s" % json.dumps(good)[:300])
else:
    r = good.get("recipients") or [{}]
    if r[0].get("address") != "good@example.net" or r[0].get("status") != "5.1.1":
        problem("99-good.eml: recipient %s" % json.dumps(r)[:300])
    if (good.get("original") or {}).get("message_id") != "goodoriginal@example.com":
        problem("99-good.eml: original %s" % json.dumps(good.get("original"))[:300])

for name in ("stdin1.out", "stdin2.out"):
    got = load(os.path.join(d, name))
    if len(got) != 1 or got[0].get("file") != "-":
        problem("%s: expected one line for -, got %d" % (name, len(got)))
s2 = load(os.path.join(d, "stdin2.out"))
if s2 and s2[0].get("error") is None:
    problem("stdin over 64 MiB: no error")

for p in problems:
    print("FAIL:", p)
print("%d lines checked, %d problems" % (len(lines), len(problems)))
sys.exit(1 if problems else 0)
PYEOF
then
    fail=1
fi

exit $fail
