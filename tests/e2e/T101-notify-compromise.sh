#!/bin/sh
# T101-notify-compromise: a flood of reports about mail that went out through
# the owner's own provider (compromise suspected) gives one critical
# notification that does not expire, on a private D-Bus session with
# python3-dbusmock's notification daemon.  The hook runs without the agent,
# so the notification has no actions.  The flood is all RFC 3464 reports:
# this test is about the alert, not about reading every MTA's Received line.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

bw_require_bin
bw_require_cmd notmuch dbus-run-session
bw_require_dbusmock
if [ "${1:-}" != "--inner" ]; then
    exec dbus-run-session -- sh "$0" --inner
fi

bw_tmpdir
MOCK="$BW_SRCDIR/tests/e2e/notify-mock.py"
mail="$BW_TMP/mail"
"$PY" -m dbusmock --template notification_daemon >"$BW_TMP/mock.log" 2>&1 &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null; rm -rf "$BW_TMP"' EXIT
"$PY" "$MOCK" wait-name org.freedesktop.Notifications 10 || bw_skip "mock server did not start"
field() {
    "$PY" "$MOCK" calls | "$PY" -c 'import json, sys
c = [json.loads(l) for l in sys.stdin]
print(eval(sys.argv[1]))' "$1"
}

export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00
"$PY" "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --flood 40 \
    --via-own-account --formats flood-postfix --spread-minutes 25 --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$mail" alex@example.org
bw_expect_ok "hook" "$BW_BIN" hook post-new
status=$("$BW_BIN" scan --json --quiet | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["assessment"]["status"])')
bw_expect_eq "assessment" "$status" compromise-suspected
bw_expect_eq "one notification" "$(field 'len(c)')" 1
bw_expect_eq "critical urgency" "$(field 'c[0]["hints"]["urgency"]')" 2
bw_expect_eq "never expires" "$(field 'c[0]["timeout"]')" 0
bw_expect_eq "says what to do first" "$(field '"alex@example.org" in c[0]["body"]')" True
bw_expect_eq "plain summary" "$(field '"<" in c[0]["summary"]')" False
bw_done
