#!/bin/sh
# T050-bench-shared: every bench/ script finds the shared material
# (corpus/, scenarios/) the same way (bench/shared-dir.sh): $BW_SHARED when
# set, else ../shared next to the source tree, else ../shared next to the
# main worktree when the source tree is another worktree of the repository
# (`git worktree add`: /work/wt/X has no ../shared of its own).  Some took
# ../shared next to the source tree only, whatever BW_SHARED said, or
# /work/shared.  Without the material each one still skips cleanly and
# names where it looked.
#
# A copy of bench/ committed in a repository of its own, with a second
# worktree, and a shared directory that exists but holds none of the data
# (so that no script runs a measurement).
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_cmd git python3 bash
bw_tmpdir

root="$BW_TMP/repo"
mkdir -p "$root/main" "$root/shared" "$BW_TMP/elsewhere"
cp -R "$BW_SRCDIR/bench" "$root/main/bench"
git -C "$root/main" init -q
git -C "$root/main" add bench
git -C "$root/main" -c user.name=t -c user.email=t@example.org commit -q -m bench
git -C "$root/main" worktree add -q "$root/wt/x" -b x 2>/dev/null \
    || bw_expect_eq "git worktree add" failed ok
wt="$root/wt/x"
unset BW_SHARED

# where TREE [BW_SHARED]: what shared-dir.sh says, and its exit status
where() {
    rc=0
    out=$(env ${2:+BW_SHARED="$2"} sh "$1/bench/shared-dir.sh") || rc=$?
    echo "$out $rc"
}
bw_expect_eq "main worktree: ../shared next to it" "$(where "$root/main")" "$root/shared 0"
bw_expect_eq "other worktree: the main worktree's ../shared" "$(where "$wt")" "$root/shared 0"
bw_expect_eq "BW_SHARED first" "$(where "$wt" "$BW_TMP/elsewhere")" "$BW_TMP/elsewhere 0"
bw_expect_eq "BW_SHARED absent: named, exit 1" "$(where "$wt" "$BW_TMP/none")" "$BW_TMP/none 1"
mkdir -p "$root/wt/shared"
bw_expect_eq "other worktree with its own ../shared" "$(where "$wt")" "$root/wt/shared 0"
rmdir "$root/wt/shared"

# Every script, from the other worktree: it skips (exit 0 or 77) and names
# the directory it looked in.
mkdir -p "$BW_TMP/build/bench"   # (a build tree for engine-figures.sh, --loo: never run)
printf '#!/bin/sh\nexit 0\n' >"$BW_TMP/build/bouncewatch"
cp "$BW_TMP/build/bouncewatch" "$BW_TMP/build/bench/scan-floor"
chmod +x "$BW_TMP/build/bouncewatch" "$BW_TMP/build/bench/scan-floor"
# skips NAME SHARED SCRIPT ARGS...: SCRIPT of the worktree, with BW_SHARED=SHARED
# when not empty, skips and names the directory it looked in (SHARED, else
# the main worktree's ../shared)
skips() {
    name=$1 shared=$2 script=$3
    shift 3
    rc=0
    env ${shared:+BW_SHARED="$shared"} PATH="$PATH" "$wt/bench/$script" "$@" \
        </dev/null >"$BW_TMP/out" 2>&1 || rc=$?
    case $rc in 0|77) ;; *) bw_expect_eq "$name: $script skips (exit status)" "$rc" "0 or 77" ;; esac
    grep -q "${shared:-$root/shared}/" "$BW_TMP/out" \
        || bw_expect_eq "$name: $script names where it looked" "$(cat "$BW_TMP/out")" "...${shared:-$root/shared}/..."
}
for shared in "" "$BW_TMP/elsewhere"; do
    name=${shared:+BW_SHARED}
    name=${name:-worktree}
    skips "$name" "$shared" parse-speed.sh
    skips "$name" "$shared" parse-accuracy.py
    skips "$name" "$shared" leave-one-family-out.py --loo "$BW_TMP/build/bench/scan-floor"
    skips "$name" "$shared" signals-eval.py
    skips "$name" "$shared" scan-speed.sh
    skips "$name" "$shared" parse-identity.py "$BW_TMP/build/bouncewatch" "$BW_TMP/build/bouncewatch"
    skips "$name" "$shared" scan-identity.py "$BW_TMP/build/bouncewatch" "$BW_TMP/build/bouncewatch"
    if command -v notmuch >/dev/null 2>&1; then   # (it asks for notmuch first)
        skips "$name" "$shared" engine-figures.sh --builddir "$BW_TMP/build" --data "$BW_TMP/no-data"
    fi
done
bw_done
