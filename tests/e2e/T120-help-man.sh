#!/bin/sh
# T120-help-man: every command in `bouncewatch --help` and every option in
# each command's --help is documented in bouncewatch(1), so the manual page
# and the program cannot drift apart unnoticed; the EXIT STATUS table lists
# exactly the exit codes of src/cli/cli.h, and each one is what the program
# returns in the case the table names; --help points at installed pages
# only (never at the source tree's shared/SPEC.md).
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
export LC_ALL=C LANGUAGE=
man1="$BW_BUILDDIR/docs/bouncewatch.1"   # generated: the paths of configure
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
# --help names no file a user does not have.
for c in "" $cmds; do
    # shellcheck disable=SC2086 # no command: the program's own --help
    if "$BW_BIN" $c --help | grep -q 'SPEC'; then
        echo "FAIL: bouncewatch $c --help points at the SPEC, which users do not have"
        bw_fail_count=$((bw_fail_count + 1))
    fi
done
bw_expect_eq "parse usage line names FILE...|- once" \
    "$("$BW_BIN" parse --help | grep -o 'FILE\.\.\.|-' | wc -l)" 1

# The EXIT STATUS table is exactly the codes the program defines.
table=$(printf '%s\n' "$page" | sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' |
        awk '/^\.TP/ { getline; if ($1 == ".B" && $2 ~ /^[0-9]+$/) print $2 }' | sort -n | tr '\n' ' ')
defined=$(sed -n 's/^ *BW_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$BW_SRCDIR/src/cli/cli.h" | sort -n | tr '\n' ' ')
bw_expect_eq "exit codes in bouncewatch(1) = exit codes in cli.h" "$table" "$defined"

# Each code, provoked the way the table describes it.  70 (internal error)
# cannot be provoked from outside; every other code must be.
bw_require_cmd notmuch
bw_tmpdir
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
printf 'From: a@example.org\nSubject: hi\n\nhello\n' >"$BW_TMP/ok.eml"
provoked=" "
expect_exit() {   # expect_exit CODE WHAT COMMAND...
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$BW_TMP/out" 2>"$BW_TMP/err" || rc=$?
    bw_expect_eq "exit code of $what" "$rc" "$want"
    [ "$rc" = "$want" ] && provoked="$provoked$want "
}
expect_exit 0 "parse of a mail" "$BW_BIN" parse "$BW_TMP/ok.eml"
expect_exit 0 "scan" "$BW_BIN" scan --quiet
expect_exit 1 "parse of a missing file" "$BW_BIN" parse "$BW_TMP/ok.eml" "$BW_TMP/missing.eml"
bw_expect_eq "parse still reports the good file" "$(grep -c 'ok.eml' "$BW_TMP/out")" 1
mkdir -p "$BW_TMP/data2"
printf 'not a directory' >"$BW_TMP/data2/bouncewatch"   # where the state directory goes
expect_exit 1 "scan with an unusable state directory" env XDG_DATA_HOME="$BW_TMP/data2" "$BW_BIN" scan --quiet
expect_exit 20 "--format-version=0" "$BW_BIN" parse --json --format-version=0 "$BW_TMP/ok.eml"
expect_exit 21 "--format-version=99" "$BW_BIN" scan --json --format-version=99
expect_exit 64 "an unknown option" "$BW_BIN" scan --bogus
expect_exit 64 "an unknown command" "$BW_BIN" bogus
expect_exit 64 "a malformed --since" "$BW_BIN" scan --since=yesterday
printf '[database]\npath=%s\n[user]\nprimary_email=owner@example.org\n' "$BW_TMP/nomail" >"$BW_TMP/nodb-config"
mkdir -p "$BW_TMP/nomail"
expect_exit 69 "a database that cannot be opened" env NOTMUCH_CONFIG="$BW_TMP/nodb-config" "$BW_BIN" scan
expect_exit 78 "no notmuch configuration" env NOTMUCH_CONFIG="$BW_TMP/no-such-config" "$BW_BIN" scan
bw_expect_eq "no configuration: says what to do" "$(grep -c 'notmuch setup' "$BW_TMP/err")" 1
expect_exit 0 "hook post-new with a bad option" "$BW_BIN" hook post-new --no-notify --bogus
bw_expect_eq "hook post-new logs the bad option" "$(grep -c -- "--bogus" "$BW_TMP/err")" 1
expect_exit 0 "hook post-new without configuration" env NOTMUCH_CONFIG="$BW_TMP/no-such-config" "$BW_BIN" hook post-new
for code in $table; do
    case "$provoked" in *" $code "*) continue ;; esac
    [ "$code" = 70 ] && continue
    echo "FAIL: exit code $code of bouncewatch(1) is never returned by this test's cases"
    bw_fail_count=$((bw_fail_count + 1))
done

# --since: the ages the manual page lists.
for age in 30m 12h 3d 2w 6mo 1y; do
    expect_exit 0 "--since=$age" "$BW_BIN" scan --quiet --since="$age"
done

# Every structural limit a refusal can name (src/core/caps.c) is in the
# page's LIMITS section, with the number bw.h gives it.
limits=$(printf '%s\n' "$page" | sed -n '/^\.SH LIMITS/,/^\.SH /p')
caps=$(grep -o 'refusal_text("BW_MAX_[A-Z0-9_]*"' "$BW_SRCDIR/src/core/caps.c" | sed 's/.*"\(BW_MAX_[A-Z0-9_]*\)"/\1/' | sort -u)
[ -n "$caps" ] || { echo "FAIL: no caps found in src/core/caps.c"; exit 1; }
for cap in $caps; do
    value=$(sed -n "s/^#define $cap  *\([0-9][0-9]*\).*/\1/p" "$BW_SRCDIR/src/core/bw.h")
    entry=$(printf '%s\n' "$limits" | grep "^\.B $cap " || true)
    if [ -z "$entry" ]; then
        echo "FAIL: $cap is not in the LIMITS section of bouncewatch(1)"
        bw_fail_count=$((bw_fail_count + 1))
    elif [ -n "$value" ] && ! printf '%s\n' "$entry" | sed 's/,//g' | grep -q "($value)"; then
        echo "FAIL: $cap is $value in bw.h, the page says: $entry"
        bw_fail_count=$((bw_fail_count + 1))
    fi
done
bw_done
