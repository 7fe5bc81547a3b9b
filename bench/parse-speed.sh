#!/bin/bash
# parse-speed.sh: parsing speed of bouncewatch against Sisimai and flufl.bounce.
#
#   bench/parse-speed.sh [--runs N] [--bin PATH] [--corpus DIR]...
#
# Each tool reads the same files in ONE process (the shared corpus:
# corpus/set-of-emails/bounces and corpus/ham of the shared material, found
# by bench/shared-dir.sh ($BW_SHARED, else ../shared next to the source tree
# or the main worktree), or the --corpus directories given):
#   bouncewatch  `bouncewatch parse --json FILE...`, output to /dev/null
#   Sisimai      Debian's libsisimai-perl: Sisimai->make(FILE, delivered => 1,
#                vacation => 1) per file (the vacation option exists from
#                Sisimai 5 on; 4.x ignores it)
#   flufl.bounce python3-flufl.bounce: scan_message() per file
# The three alternate, N runs each (default 5), warm page cache (one
# unmeasured warm-up run each).  Reported: median wall time, files/s and
# median peak RSS, plus how many files each called a bounce, as a sanity
# check that they did the work.
# Each run is timed the way hyperfine -N times a command: from just before
# the tool's process is spawned to its exit being reaped, with its CPU time
# and peak RSS from wait4() (a small Python helper spawns it; the helper's
# own start is not counted).  Timing with `date` before and after
# /usr/bin/time counted ~4.5 ms of date's and time's own start-up and of
# the shell's forks in every run: nothing for a 0.4 s tool, a fifth of the
# time of one that takes 20 ms, so the ratio was biased against the faster
# tool.
# Target (issue 10): bouncewatch >= 20x Sisimai's files/s (it was 10x in issue 2).
#
# Exit status: 0 (also when the shared corpus is absent: skipped), 1 when a
# tool fails or the target is missed, 64 on a usage error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RUNS=5
BIN=""
corpora=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --runs=*) RUNS=${1#--runs=}; shift ;;
        --bin) BIN=$2; shift 2 ;;
        --bin=*) BIN=${1#--bin=}; shift ;;
        --corpus) corpora+=("$2"); shift 2 ;;
        --corpus=*) corpora+=("${1#--corpus=}"); shift ;;
        -h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) if [ -z "$BIN" ] && [ -x "$1" ]; then BIN=$1; shift
           else echo "parse-speed.sh: unknown argument '$1' (try --help)" >&2; exit 64; fi ;;
    esac
done

if [ ${#corpora[@]} -eq 0 ]; then
    shared=$("$here/shared-dir.sh" || true)/corpus
    if [ ! -d "$shared/set-of-emails/bounces" ]; then
        echo "parse-speed.sh: SKIP: $shared/set-of-emails/bounces not found (the shared corpus is absent)"
        exit 0
    fi
    corpora=("$shared/set-of-emails/bounces" "$shared/ham")
fi
if [ -z "$BIN" ]; then
    for cand in "$top/bouncewatch" "$top"/build*/bouncewatch /tmp/build-*/bouncewatch; do
        if [ -x "$cand" ]; then BIN=$cand; break; fi
    done
fi
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "parse-speed.sh: no bouncewatch binary; build it and pass --bin BUILDDIR/bouncewatch" >&2
    exit 64
fi

# /usr/bin/python3: Debian's flufl.bounce is installed for the system
# interpreter, not for whatever python3 comes first in PATH.
PY=/usr/bin/python3
have_sisimai=yes; perl -MSisimai -e1 2>/dev/null || have_sisimai=no
have_flufl=yes; "$PY" -c 'import flufl.bounce' 2>/dev/null || have_flufl=no

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-speed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

find "${corpora[@]}" -maxdepth 1 -type f \( -name '*.eml' -o -name '*.txt' -o -name '*.msg' \) \
    -print | LC_ALL=C sort >"$tmp/files"
nfiles=$(wc -l <"$tmp/files")
if [ "$nfiles" -eq 0 ]; then
    echo "parse-speed.sh: no .eml files in ${corpora[*]}" >&2
    exit 1
fi
mapfile -t files <"$tmp/files"

# timed.py OUT ERR IN -- PROGRAM ARG...: runs PROGRAM with its standard
# input from IN (/dev/null for none) and its output to OUT and ERR; prints
# "exit wall_us peak_rss_kib cpu_us" (wall: posix_spawn to wait4, as
# hyperfine -N; CPU and RSS: wait4's rusage of the child).
cat >"$tmp/timed.py" <<'EOF'
import os, sys, time
out, err, inp = sys.argv[1:4]
argv = sys.argv[5:]
fds = [os.open(inp, os.O_RDONLY),
       os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
       os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
acts = [(os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(fds)]
# An untimed spawn first: a fresh interpreter's first posix_spawn pays
# ~0.8 ms of first-call costs of its own.
os.wait4(os.posix_spawn("/bin/true", ["true"], os.environ), 0)
t0 = time.perf_counter_ns()
pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=acts)
_, status, ru = os.wait4(pid, 0)
t1 = time.perf_counter_ns()
rc = os.waitstatus_to_exitcode(status)
print("%d %d %d %d" % (rc if rc >= 0 else 128 - rc, (t1 - t0) // 1000, ru.ru_maxrss,
                       int((ru.ru_utime + ru.ru_stime) * 1e6)))
EOF
cat >"$tmp/sisimai.pl" <<'EOF'
# One process over every file named on stdin; prints how many gave records.
use strict; use warnings;
use Sisimai;
my ($files, $bounces) = (0, 0);
while (my $f = <STDIN>) {
    chomp $f;
    $files++;
    my $v = Sisimai->make($f, 'delivered' => 1, 'vacation' => 1);
    $bounces++ if $v && scalar @$v;
}
print "$files files, $bounces bounces\n";
EOF
cat >"$tmp/flufl_bench.py" <<'EOF'
# One process over every file named on stdin; prints how many gave addresses.
import email, sys
from flufl.bounce import scan_message
files = bounces = 0
for line in sys.stdin:
    path = line.rstrip("\n")
    files += 1
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f)
    try:
        if scan_message(msg):
            bounces += 1
    except Exception:       # flufl raises on some malformed mail: count it as none
        pass
print("%d files, %d bounces" % (files, bounces))
EOF

# run_one NAME: one timed run; appends "wall_us rss_kib cpu_us" to $tmp/NAME.times.
run_one() {
    local name=$1 rc wall rss cpu
    local cmd=()
    case "$name" in
        bouncewatch) cmd=(/dev/null -- "$BIN" parse --json "${files[@]}") ;;
        sisimai) cmd=("$tmp/files" -- perl "$tmp/sisimai.pl") ;;
        flufl) cmd=("$tmp/files" -- "$PY" "$tmp/flufl_bench.py") ;;
    esac
    read -r rc wall rss cpu < <("$PY" "$tmp/timed.py" "$tmp/$name.out" "$tmp/$name.err" "${cmd[@]}")
    # bouncewatch exits 1 when some input is not a mail: that is a result.
    if [ -z "$rc" ] || [ "$rc" -gt 1 ] || { [ "$name" != bouncewatch ] && [ "$rc" -ne 0 ]; }; then
        echo "parse-speed.sh: $name failed (exit ${rc:-?}):" >&2
        tail -n 5 "$tmp/$name.err" >&2
        return 1
    fi
    # microseconds of wall time, peak RSS KiB, microseconds of CPU time
    echo "$wall $rss $cpu" >>"$tmp/$name.times"
}

tools=(bouncewatch)
if [ "$have_sisimai" = yes ]; then tools+=(sisimai)
else echo "parse-speed.sh: Sisimai not installed (apt-get install libsisimai-perl): not compared"; fi
if [ "$have_flufl" = yes ]; then tools+=(flufl)
else echo "parse-speed.sh: flufl.bounce not installed (apt-get install python3-flufl.bounce): not compared"; fi

echo "parse-speed.sh: $nfiles files from ${corpora[*]}; $RUNS runs each, interleaved, after a warm-up"
echo "parse-speed.sh: bouncewatch = $BIN"
for t in "${tools[@]}"; do run_one "$t" || exit 1; : >"$tmp/$t.times"; done
for ((i = 0; i < RUNS; i++)); do
    for t in "${tools[@]}"; do run_one "$t" || exit 1; done
done

# Median of a column of $tmp/NAME.times (1: wall us, 2: KiB, 3: CPU us).
median() { sort -n -k"$2","$2" "$tmp/$1.times" | awk -v c="$2" '{ v[NR] = $c } END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Files with at least one report (an mbox file gives one line per message).
bw_bounces=$(grep '"bounce":true' "$tmp/bouncewatch.out" | sed 's/^{\("format_version":[0-9]*,\)\{0,1\}"file":"\(\([^"\\]\|\\.\)*\)".*/\2/' | sort -u | wc -l)
bw_errors=$(grep -c '"error":"' "$tmp/bouncewatch.out" || true)
printf '\n%-12s %6s %9s %9s %9s %9s %8s  %s\n' tool files "wall s" "files/s" "CPU s" "files/s" "RSS MiB" "files with a bounce"
printf '%-12s %6s %9s %9s %9s %9s %8s\n' "" "" "" "(wall)" "" "(CPU)" "(peak)"
declare -A rate cpurate
for t in "${tools[@]}"; do
    us=$(median "$t" 1)
    kib=$(median "$t" 2)
    cus=$(median "$t" 3)
    [ "$cus" -gt 0 ] || cus=1
    rate[$t]=$(awk -v n="$nfiles" -v us="$us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
    cpurate[$t]=$(awk -v n="$nfiles" -v us="$cus" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
    case "$t" in
        bouncewatch) found="$bw_bounces (errors: $bw_errors)" ;;
        *) found=$(sed -n 's/.* \([0-9]*\) bounces$/\1/p' "$tmp/$t.out") ;;
    esac
    printf '%-12s %6d %9.3f %9s %9.3f %9s %8.1f  %s\n' "$t" "$nfiles" \
        "$(awk -v us="$us" 'BEGIN { print us / 1e6 }')" "${rate[$t]}" \
        "$(awk -v us="$cus" 'BEGIN { print us / 1e6 }')" "${cpurate[$t]}" \
        "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$found"
done
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); on a busy machine compare the CPU columns)"

status=0
if [ -n "${rate[sisimai]:-}" ]; then
    ratio=$(awk -v a="${rate[bouncewatch]}" -v b="${rate[sisimai]}" 'BEGIN { printf "%.1f", a / b }')
    cratio=$(awk -v a="${cpurate[bouncewatch]}" -v b="${cpurate[sisimai]}" 'BEGIN { printf "%.1f", a / b }')
    if awk -v r="$ratio" 'BEGIN { exit !(r >= 20) }'; then verdict=PASS; else verdict=FAIL; status=1; fi
    echo
    echo "bouncewatch/Sisimai: ${ratio}x files/s wall, ${cratio}x CPU (target >= 20x): $verdict"
fi
if [ -n "${rate[flufl]:-}" ]; then
    echo "bouncewatch/flufl.bounce: $(awk -v a="${rate[bouncewatch]}" -v b="${rate[flufl]}" 'BEGIN { printf "%.1f", a / b }')x files/s wall," \
         "$(awk -v a="${cpurate[bouncewatch]}" -v b="${cpurate[flufl]}" 'BEGIN { printf "%.1f", a / b }')x CPU"
fi
exit $status
