#!/bin/sh
# shared-dir.sh: where the shared material is (the directory that holds
# corpus/ and scenarios/), for every script of bench/ (README.md, Benchmarks).
#
#   bench/shared-dir.sh        prints the directory; exit 0 when it exists
#
# In this order:
#   1. $BW_SHARED, when set and not empty (taken as it is: a script that
#      finds nothing there skips and names it);
#   2. ../shared next to the source tree;
#   3. ../shared next to the main worktree, when the source tree is another
#      worktree of its git repository (git worktree add: /work/wt/X has no
#      ../shared of its own) and git is there.
# When none exists it prints the second (what the scripts then name in
# their skip message) and exits 1.
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${BW_SHARED:-}" ]; then
    printf '%s\n' "$BW_SHARED"
    [ -d "$BW_SHARED" ]
    exit
fi
here=$(cd "$top/.." && pwd)/shared
if [ -d "$here" ]; then
    printf '%s\n' "$here"
    exit 0
fi
common=$(git -C "$top" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
if [ -n "$common" ] && [ -d "$common/../../shared" ]; then
    (cd "$common/../../shared" && pwd)
    exit 0
fi
printf '%s\n' "$here"
exit 1
