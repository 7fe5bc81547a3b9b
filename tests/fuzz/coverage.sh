#!/bin/bash
# coverage.sh: which lines of the code a fuzz target's corpus reaches.
#
#   tests/fuzz/coverage.sh TARGET CORPUS-DIR-OR-FILE...
#
# Builds the target with clang's source-based coverage (no sanitizer, no
# libFuzzer: replay-main.c runs each input once, like `make check`), runs
# it over the corpus (e.g. FUZZ_WORKDIR/TARGET/corpus after a run.sh run)
# and prints llvm-cov's report of the files under src/: regions, functions
# and lines covered, per file and in total.  The build goes to
# FUZZ_WORKDIR/coverage-TARGET (default: a temporary directory, removed).
# Exit 77 when clang or llvm-cov/llvm-profdata are missing.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: coverage.sh TARGET CORPUS-DIR-OR-FILE..." >&2
    exit 64
fi
target=${1#fuzz-}
shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${CC:-clang}
[ -f "$here/fuzz-$target.c" ] || { echo "coverage.sh: no $here/fuzz-$target.c" >&2; exit 64; }
for tool in "$CC" llvm-profdata llvm-cov; do
    command -v "$tool" >/dev/null 2>&1 || { echo "coverage.sh: $tool not found; skipping" >&2; exit 77; }
done

cleanup=no
if [ -z "${FUZZ_WORKDIR:-}" ]; then
    FUZZ_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/bw-cov.XXXXXX")
    cleanup=yes
fi
dir="$FUZZ_WORKDIR/coverage-$target"
rm -rf "$dir"
mkdir -p "$dir"

# The same sources, settings and include directories as run.sh.
sources=$(awk '
    /^BW_CORE_[A-Z_]*[ \t]*\+?=/ { grab = 1 }
    grab {
        line = $0
        sub(/^BW_CORE_[A-Z_]*[ \t]*\+?=/, "", line)
        cont = (line ~ /\\[ \t]*$/)
        sub(/\\[ \t]*$/, "", line)
        n = split(line, w, /[ \t]+/)
        for (i = 1; i <= n; i++) if (w[i] ~ /\.c$/) print w[i]
        grab = cont
    }' "$top/Makefile.am")
setting() {
    sed -n "s/^[ /*]*fuzz-$1:[ \t]*//p" "$here/fuzz-$target.c" | head -n1 | sed 's/[ \t]*\*\/[ \t]*$//'
}
srcs=()
for s in $sources; do srcs+=("$top/$s"); done
for s in $(setting sources); do
    if [ -f "$top/$s" ]; then srcs+=("$top/$s"); else srcs+=("$(find "$top/src" -name "${s##*/}" -type f | head -n1)"); fi
done
cat > "$dir/config.h" <<'EOF'
#define PACKAGE "bouncewatch"
#define GETTEXT_PACKAGE "bouncewatch"
#define PACKAGE_VERSION "fuzz"
#define VERSION "fuzz"
EOF
PKGS="glib-2.0 gio-2.0 gmime-3.0 json-glib-1.0 libsodium $(setting packages)"
# shellcheck disable=SC2086
read -r -a pkg_cflags <<< "$(pkg-config --cflags $PKGS)"
# shellcheck disable=SC2086
read -r -a pkg_libs <<< "$(pkg-config --libs $PKGS)"
incs=()
while IFS= read -r d; do incs+=(-I"$d"); done < <(find "$top/src" -name '*.h' -printf '%h\n' | sort -u)

echo "coverage.sh: building $target with coverage in $dir"
"$CC" -g -O0 -std=c11 -D_GNU_SOURCE -fprofile-instr-generate -fcoverage-mapping \
    "-DLOCALEDIR=\"/usr/share/locale\"" "-DGETTEXT_PACKAGE=\"bouncewatch\"" \
    "-DBW_FUZZ_TARGET=\"$target\"" -I"$dir" -I"$here" "${incs[@]}" "${pkg_cflags[@]}" \
    "$here/fuzz-$target.c" "$here/fuzz-common.c" "$here/replay-main.c" "${srcs[@]}" \
    "${pkg_libs[@]}" -lm -o "$dir/cover-$target"

echo "coverage.sh: running $target over $*"
LLVM_PROFILE_FILE="$dir/run.profraw" BW_FUZZ_REPLAY_TIMEOUT=600 \
    "$dir/cover-$target" "$@" 2>/dev/null | tail -n1
llvm-profdata merge -sparse "$dir/run.profraw" -o "$dir/run.profdata"
llvm-cov report "$dir/cover-$target" -instr-profile="$dir/run.profdata" "${srcs[@]}" |
    sed "s|$top/||"
if [ "$cleanup" = yes ]; then
    rm -rf "$FUZZ_WORKDIR"
fi
