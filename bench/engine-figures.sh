#!/bin/sh
# engine-figures.sh: the scan engine's figures (issue 10), each as a ratio
# to its floor measured in the same run.
#
#   bench/engine-figures.sh [--builddir DIR] [--data DIR] [--scale K]
#                           [--runs N] [--only LIST] [--flood N]
#
#   --builddir  the build directory (default: ./ when it holds bouncewatch,
#               else ../build); bench/scan-floor is built there with
#               `make bench-programs` when missing
#   --data      the scenario mailbox (default /tmp/bw-engine-figures/mixed-K);
#               made with the shared scenarios/gen.py --scenario mixed
#               --seed 107 --scale K when it does not exist (K default 100:
#               ~160k messages, about ten minutes of `notmuch new`)
#   --runs      runs per figure and per floor, interleaved (default 7)
#   --only      hook-nothing,hook-new10,scan,flood (default: all)
#   --flood     reports in the flood (default 20000)
#
# The measurements themselves are in bench/engine-figures.py (its docstring
# says what each figure and floor is).  The parse figure (parse --json vs
# Sisimai) is bench/parse-speed.sh.  Exits 77 (skip) without the shared
# material (bench/shared-dir.sh: $BW_SHARED, ../shared) or notmuch.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
SHARED=$("$HERE/shared-dir.sh") || true   # $BW_SHARED, ../shared (README.md, Benchmarks)
BUILD=
DATA=
SCALE=100
RUNS=7
ONLY=hook-nothing,hook-new10,scan,flood
FLOOD=20000
while [ $# -gt 0 ]; do
    case "$1" in
    --builddir) BUILD=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --flood) FLOOD=$2; shift 2 ;;
    -h|--help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "engine-figures.sh: unknown argument '$1' (try --help)" >&2; exit 64 ;;
    esac
done
if [ -z "$BUILD" ]; then
    if [ -x ./bouncewatch ]; then BUILD=$(pwd); else BUILD=$TOP/build; fi
fi
BIN=$BUILD/bouncewatch
[ -x "$BIN" ] || { echo "engine-figures.sh: no $BIN: build first (or --builddir)" >&2; exit 64; }
command -v notmuch >/dev/null 2>&1 || { echo "SKIP: notmuch not found"; exit 77; }
if [ ! -x "$BUILD/bench/scan-floor" ]; then
    make -C "$BUILD" bench-programs >/dev/null
fi
if [ -z "$DATA" ]; then
    DATA=/tmp/bw-engine-figures/mixed-$SCALE
fi
if [ ! -f "$DATA/truth.json" ]; then
    if [ ! -f "$SHARED/scenarios/gen.py" ]; then
        echo "SKIP: $SHARED/scenarios not found (set BW_SHARED, or give --data)"
        exit 77
    fi
    echo "generating mixed --seed 107 --scale $SCALE into $DATA (slow)"
    mkdir -p "$(dirname "$DATA")"
    python3 "$SHARED/scenarios/gen.py" --scenario mixed --seed 107 --scale "$SCALE" --out "$DATA"
fi
exec python3 "$HERE/engine-figures.py" --data "$DATA" --bin "$BIN" \
    --floor "$BUILD/bench/scan-floor" --runs "$RUNS" --only "$ONLY" --flood "$FLOOD"
