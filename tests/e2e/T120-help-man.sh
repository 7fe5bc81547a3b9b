#!/bin/sh
# T120-help-man: every command in `bouncewatch --help` and every option in
# each command's --help is documented in bouncewatch(1), so the manual page
# and the program cannot drift apart unnoticed.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
export LC_ALL=C LANGUAGE=
man1="$BW_SRCDIR/docs/bouncewatch.1"
# The page writes options as \-\-name: compare on that spelling.
page=$(sed 's/\\-/-/g' "$man1")
cmds=$("$BW_BIN" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[ -n "$cmds" ] || { echo "FAIL: no commands in --help"; exit 1; }
for c in $cmds; do
    bw_expect_eq "command $c in bouncewatch(1)" \
        "$(printf '%s\n' "$page" | grep -c "^\.SS $c\b")" 1
    for o in $("$BW_BIN" "$c" --help | sed -n 's/^  *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' | grep -v '^--help$'); do
        if ! printf '%s\n' "$page" | grep -q -- "$o"; then
            echo "FAIL: bouncewatch $c $o is not in bouncewatch(1)"
            bw_fail_count=$((bw_fail_count + 1))
        fi
    done
done
bw_done
