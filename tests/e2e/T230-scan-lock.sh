#!/bin/sh
# T230-scan-lock: while another program holds notmuch's write lock (here a
# `notmuch tag --batch` waiting on a FIFO, as a long `notmuch new` would),
# `scan --tag` waits a bounded time, prints the scan, says clearly that the
# database is locked and exits 69; nothing is lost: once the lock is gone
# the next `scan --tag` writes every tag.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3 mkfifo
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

# How long the same scan takes with no lock in the way: the bound below is
# on the wait, not on the machine's speed (a loaded or sanitized build is
# slower at both).
start=$(date +%s)
XDG_DATA_HOME="$BW_TMP/base-state" XDG_CACHE_HOME="$BW_TMP/base-cache" \
    "$BW_BIN" scan --json >/dev/null 2>&1 || true
base=$(( $(date +%s) - start ))

mkfifo "$BW_TMP/fifo"
notmuch tag --batch <"$BW_TMP/fifo" &
holder=$!
exec 9>"$BW_TMP/fifo"       # the holder now has its input open and keeps the lock
release() { exec 9>&-; wait "$holder" 2>/dev/null; }
trap 'release; rm -rf "$BW_TMP"' EXIT
# Wait until the holder really has the database open for writing.
i=0
while [ $i -lt 50 ]; do
    if ! timeout 0.2 notmuch tag +probe -- id:none@example 2>/dev/null 9>&-; then break; fi
    i=$((i + 1))
done

start=$(date +%s)
rc=0
BOUNCEWATCH_LOCK_TIMEOUT_MS=1500 "$BW_BIN" scan --json --tag >"$BW_TMP/locked.json" \
    2>"$BW_TMP/locked.err" 9>&- || rc=$?
took=$(( $(date +%s) - start ))
bw_expect_eq "locked: exit status" "$rc" 69
grep -qi "locked" "$BW_TMP/locked.err" || bw_expect_eq "locked: message" "$(cat "$BW_TMP/locked.err")" "...locked..."
[ "$took" -le $((base + 5)) ] || bw_expect_eq "locked: bounded wait (s)" "$took" "<=$((base + 5))"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$BW_TMP/locked.json" 2>/dev/null)
bw_expect_eq "locked: the scan itself is printed" "$n" 43

release
trap 'rm -rf "$BW_TMP"' EXIT
# The lock is gone: the tags follow, the abandoned attempt left no lock.
rc=0
"$BW_BIN" scan --json --tag >/dev/null 2>"$BW_TMP/after.err" || rc=$?
bw_expect_eq "after release: exit status" "$rc" 0
n=$(notmuch count tag:bounce)
bw_expect_eq "after release: every report tagged" "$n" 43
n=$(notmuch count tag:backscatter)
bw_expect_eq "after release: backscatter tagged" "$n" 40
bw_done
