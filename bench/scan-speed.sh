#!/bin/sh
# scan-speed.sh: how fast is `bouncewatch scan`?
#
#   bench/scan-speed.sh [--bin PATH] [--out DIR] [--scales "10 100"] [--scenario NAME] [--runs N]
#
# For each scale, generates (once; reused when DIR/NAME-SCALE exists) the
# shared scenario with scenarios/gen.py of the shared material, then measures with
# /usr/bin/time -v, state in a private XDG_DATA_HOME:
#   full        first scan, empty state (every candidate parsed)
#   rescan      scan --full with the state present (warm page cache)
#   nothing     a scan with nothing new and the same "now" (the cached document)
#   nothing-now a scan with nothing new and a new "now" (stored items reloaded,
#               surges and assessment recomputed)
#   new-10      10 new messages (5 reports, 5 ordinary) arrived: incremental
# Prints one line per measurement: wall seconds (median of --runs for the
# short ones), CPU seconds (user+sys) and peak RSS.  The machine may be busy:
# CPU time is the steadier figure.  Exits 77 (skip) without the shared
# material (bench/shared-dir.sh: $BW_SHARED, ../shared).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$("$HERE/shared-dir.sh") || true   # $BW_SHARED, ../shared (README.md, Benchmarks)
BIN=${BW_BIN:-$HERE/../bouncewatch}
OUT=/tmp/bw-scan-speed
SCALES="10 100"
SCENARIO=mixed
RUNS=5
while [ $# -gt 0 ]; do
    case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --scales) SCALES=$2; shift 2 ;;
    --scenario) SCENARIO=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [--bin PATH] [--out DIR] [--scales LIST] [--scenario NAME] [--runs N]" >&2; exit 64 ;;
    esac
done
if [ ! -f "$SHARED/scenarios/gen.py" ]; then
    echo "SKIP: $SHARED/scenarios not found (set BW_SHARED)"
    exit 77
fi
for c in notmuch python3 /usr/bin/time; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not found"; exit 77; }
done
[ -x "$BIN" ] || { echo "SKIP: $BIN not built (use --bin)"; exit 77; }
case $SCENARIO in
    calm) SEED=101 ;; spoofing) SEED=102 ;; compromise) SEED=103 ;; no-sent-copies) SEED=104 ;;
    newsletter) SEED=105 ;; catchall) SEED=106 ;; mixed) SEED=107 ;; *) SEED=101 ;;
esac
mkdir -p "$OUT"

# measure LABEL ARGS...: one run under /usr/bin/time -v; sets W (wall s),
# C (user+sys s), R (peak RSS KiB).
measure() {
    /usr/bin/time -v -o "$OUT/time.txt" "$BIN" scan --json "$@" >"$OUT/last.json" 2>"$OUT/last.err" \
        || { echo "scan failed:"; cat "$OUT/last.err"; exit 1; }
    eval "$(python3 - "$OUT/time.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def f(name):
    return re.search(re.escape(name) + r": (.*)", t).group(1).strip()
wall = f("Elapsed (wall clock) time (h:mm:ss or m:ss)")
parts = [float(x) for x in wall.split(":")]
w = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
c = float(f("User time (seconds)")) + float(f("System time (seconds)"))
print("W=%.3f C=%.3f R=%s" % (w, c, f("Maximum resident set size (kbytes)")))
PY
)"
}

# median LABEL N ARGS...: N runs, prints the medians.
median() {
    label=$1 n=$2
    shift 2
    ws="" cs="" rmax=0
    i=0
    while [ $i -lt "$n" ]; do
        [ -n "${BW_NEXT_NOW:-}" ] && export BOUNCEWATCH_NOW="$(python3 -c '
import datetime as d, sys
t = d.datetime.fromisoformat(sys.argv[1]) + d.timedelta(seconds=int(sys.argv[2]) + 1)
print(t.isoformat())' "$BASE_NOW" "$i")"
        measure "$@"
        ws="$ws $W" cs="$cs $C"
        [ "$R" -gt "$rmax" ] && rmax=$R
        i=$((i + 1))
    done
    python3 - "$label" "$rmax" $ws -- $cs <<'PY'
import statistics, sys
label, rss = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
k = rest.index("--")
w, c = [float(x) for x in rest[:k]], [float(x) for x in rest[k + 1:]]
print("  %-12s wall %8.1f ms   cpu %8.1f ms   peak RSS %6d KiB   (median of %d)"
      % (label, statistics.median(w) * 1000, statistics.median(c) * 1000, int(rss), len(w)))
PY
}

for scale in $SCALES; do
    dir="$OUT/$SCENARIO-$scale"
    if [ ! -f "$dir/truth.json" ]; then
        echo "generating $SCENARIO --scale $scale (slow at 100: notmuch new indexes ~160k messages)"
        python3 "$SHARED/scenarios/gen.py" --scenario "$SCENARIO" --seed "$SEED" --scale "$scale" \
            --out "$dir" >"$OUT/gen-$scale.log" 2>&1 || { cat "$OUT/gen-$scale.log"; exit 1; }
    fi
    export NOTMUCH_CONFIG="$dir/notmuch-config"
    BASE_NOW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["now"])' "$dir/truth.json")
    export BOUNCEWATCH_NOW="$BASE_NOW"
    export XDG_DATA_HOME="$OUT/state-$scale"
    rm -rf "$XDG_DATA_HOME"
    messages=$(notmuch count '*')
    echo "scale=$scale scenario=$SCENARIO messages=$messages"
    measure
    reports=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$OUT/last.json")
    awk -v w="$W" -v c="$C" -v r="$R" -v n="$reports" 'BEGIN {
        printf "  %-12s wall %8.1f ms   cpu %8.1f ms   peak RSS %6d KiB   (%d reports)\n",
               "full", w * 1000, c * 1000, r, n }'
    median rescan 1 --full
    median nothing "$RUNS"
    BW_NEXT_NOW=1 median nothing-now "$RUNS"
    export BOUNCEWATCH_NOW="$BASE_NOW"
    # 10 new messages: 5 copies of reports and 5 of ordinary mail, new ids.
    python3 - "$dir" "$(dirname "$0")" <<'PY'
import json, os, random, sys, time
d = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from mailcopy import with_new_id
t = json.load(open(os.path.join(d, "truth.json")))
rng = random.Random(7)
reps = [m for m in t["messages"] if m["class"] in ("backscatter", "legitimate")]
ham = [m for m in t["messages"] if m["class"] == "ham"]
for k, m in enumerate(rng.sample(reps, 5) + rng.sample(ham, 5)):
    data = open(os.path.join(d, m["file"]), "rb").read()
    data = with_new_id(data, b"bench%d.%d" % (int(time.time()), k))
    name = "bench.%d.%d:2,S" % (int(time.time() * 1000), k)
    open(os.path.join(d, "mail", "INBOX", "cur", name), "wb").write(data)
PY
    notmuch new --quiet --no-hooks
    median new-10 1
done
