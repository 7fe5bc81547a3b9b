#!/bin/sh
# T102-notify-late-server: the agent starts before the desktop's
# notification daemon (as it can at login): its first alert goes to the log,
# and once a server is there the next growth reaches it as a notification.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch dbus-run-session
bw_require_dbusmock
if [ "${1:-}" != "--inner" ]; then
    # A private bus without service directories: no notification daemon
    # installed on this machine may be started by D-Bus activation.
    busconf=$(mktemp "${TMPDIR:-/tmp}/bw-bus.XXXXXX")
    cat >"$busconf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=${TMPDIR:-/tmp}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
    rc=0
    dbus-run-session --config-file="$busconf" -- sh "$0" --inner || rc=$?
    rm -f "$busconf"
    exit $rc
fi
if "$PY" -c 'import dbus, sys; sys.exit(0 if "org.freedesktop.Notifications" in dbus.SessionBus().list_activatable_names() else 1)'; then
    echo "FAIL: the private bus can activate a notification daemon"
    exit 1
fi

bw_tmpdir
MOCK="$BW_SRCDIR/tests/e2e/notify-mock.py"
GEN="$BW_SRCDIR/contrib/demo/build-mailbox.py"
mail="$BW_TMP/mail"
export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00
"$PY" "$GEN" "$mail" --base --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$mail" alex@example.org

"$BW_BIN" watch --poll 0 --debounce 100 -v 2>"$BW_TMP/agent.log" &
agent_pid=$!
mock_pid=
trap 'kill $agent_pid $mock_pid 2>/dev/null; rm -rf "$BW_TMP"' EXIT
"$PY" "$MOCK" wait-name org.bouncewatch.Agent 10 || echo "FAIL: the agent did not start"

"$PY" "$GEN" "$mail" --flood 40 --spread-minutes 25 --now "$BOUNCEWATCH_NOW"
notmuch new --no-hooks --quiet
i=0
while ! grep -q 'reports about mail you never sent' "$BW_TMP/agent.log" && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
bw_expect_eq "without a server the alert is logged" \
    "$(grep -c 'reports about mail you never sent' "$BW_TMP/agent.log")" 1

"$PY" -m dbusmock --template notification_daemon >"$BW_TMP/mock.log" 2>&1 &
mock_pid=$!
"$PY" "$MOCK" wait-name org.freedesktop.Notifications 10 || bw_skip "mock server did not start"
export BOUNCEWATCH_NOW=2026-11-20T14:40:00+00:00
"$PY" "$GEN" "$mail" --flood 20 --flood-start 40 --spread-minutes 25 --now "$BOUNCEWATCH_NOW"
notmuch new --no-hooks --quiet
# BOUNCEWATCH_NOW is read by the agent at each scan from its own
# environment, which still says 14:30: the growth is within that hour too.
i=0
while [ "$("$PY" "$MOCK" calls | wc -l)" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
bw_expect_eq "the server, once there, gets the growth" "$("$PY" "$MOCK" calls | wc -l | tr -d ' ')" 1
bw_done
