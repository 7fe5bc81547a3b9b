#!/bin/sh
# T100-notify: desktop alerts against a real notification server on a
# private D-Bus session (python3-dbusmock's notification_daemon template).
#
#  - a spoofing flood gives exactly one notification (normal urgency), with
#    the forged subject's <b>, <a href> and & escaped in the markup body;
#  - growth updates that notification in place (replaces_id), nothing new
#    means no notification;
#  - with the agent running, the hook leaves the alert to it, and the agent's
#    notification carries the actions; the agent also notices a database
#    change by itself; "Show report" and "How to secure my account" work;
#  - "Mute this campaign" keeps the campaign silent as it keeps growing;
#  - without a session bus the hook logs the alert and still exits 0;
#  - so it does without the notification module (bouncewatch-notify.so,
#    which holds libnotify), or with a file that is not one, saying why;
#  - the agent tries a module it could not load again at the next alert.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

bw_require_bin
bw_require_cmd notmuch dbus-run-session
bw_require_dbusmock

if [ "${1:-}" != "--inner" ]; then
    exec dbus-run-session -- sh "$0" --inner
fi

bw_tmpdir
MOCK="$BW_SRCDIR/tests/e2e/notify-mock.py"
GEN="$BW_SRCDIR/contrib/demo/build-mailbox.py"
mail="$BW_TMP/mail"
SUBJECT='<b>Bonus</b> <a href="https://evil.example/">claim</a> & win #{n}'

"$PY" -m dbusmock --template notification_daemon \
    -p '{"capabilities": "body body-markup actions"}' >"$BW_TMP/mock.log" 2>&1 &
mock_pid=$!
agent_pid=
cleanup() {
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
    kill "$mock_pid" 2>/dev/null
    rm -rf "$BW_TMP"
}
trap cleanup EXIT
"$PY" "$MOCK" wait-name org.freedesktop.Notifications 10 || bw_skip "mock server did not start"

calls() { "$PY" "$MOCK" calls; }
ncalls() { calls | wc -l | tr -d ' '; }
# field EXPR [ARG]: a Python expression over c, the list of Notify calls
# (ARG is sys.argv[2]).
field() {
    calls | "$PY" -c 'import json, sys
c = [json.loads(l) for l in sys.stdin]
print(eval(sys.argv[1]))' "$@"
}
# wait_calls N: wait (10 s at most) until N Notify calls were made.
wait_calls() {
    i=0
    while [ "$(ncalls)" -lt "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# surge_count: the count of the last surge, as `scan --json` reports it
# (run after the hook: the scan only reads what the hook already stored).
surge_count() {
    "$BW_BIN" scan --json --quiet | "$PY" -c 'import json, sys
s = json.load(sys.stdin)["surges"]
print(s[-1]["count"] if s else 0)'
}
flood() {  # flood FIRST COUNT NOW [extra generator options]
    first=$1 count=$2 now=$3
    shift 3
    "$PY" "$GEN" "$mail" --flood "$count" --flood-start "$first" --now "$now" \
        --spread-minutes 25 --subject "$SUBJECT" "$@"
    notmuch new --no-hooks --quiet
}

"$PY" "$GEN" "$mail" --base --now 2026-11-20T14:30:00+00:00
bw_notmuch_setup "$mail" alex@example.org

# Ordinary mail and two legitimate bounces: no alert.
export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00
bw_expect_ok "hook on the base mailbox" "$BW_BIN" hook post-new
bw_expect_eq "no notification without a surge" "$(ncalls)" 0

# A flood: exactly one notification, normal urgency, escaped body.
flood 0 40 2026-11-20T14:30:00+00:00
bw_expect_ok "hook after the flood" "$BW_BIN" hook post-new
bw_expect_eq "one notification for the flood" "$(ncalls)" 1
bw_expect_eq "a new notification" "$(field 'c[0]["replaces_id"]')" 0
bw_expect_eq "normal urgency for spoofing" "$(field 'c[0]["hints"]["urgency"]')" 1
n=$(surge_count)
bw_expect_eq "summary counts the surge's reports" \
    "$(field '" %s " % sys.argv[2] in c[0]["summary"] and "<" not in c[0]["summary"]' "$n")" True
bw_expect_eq "no raw markup from the subject" \
    "$(field '"<a " in c[0]["body"] or "<b>Bonus" in c[0]["body"]')" False
bw_expect_eq "subject escaped" \
    "$(field '"&lt;a href=&quot;https://evil.example/&quot;&gt;claim&lt;/a&gt; &amp; win" in c[0]["body"]')" True
bw_expect_eq "the hook offers no actions (no main loop)" "$(field 'c[0]["actions"]')" "[]"
first_id=1

# Nothing new: silence.
bw_expect_ok "hook with nothing new" "$BW_BIN" hook post-new
bw_expect_eq "no notification when nothing is new" "$(ncalls)" 1

# Growth: the same notification, updated in place.
export BOUNCEWATCH_NOW=2026-11-20T14:40:00+00:00
flood 40 20 2026-11-20T14:40:00+00:00
bw_expect_ok "hook after growth" "$BW_BIN" hook post-new
bw_expect_eq "growth updates, does not add" "$(ncalls)" 2
bw_expect_eq "growth replaces the first notification" "$(field 'c[1]["replaces_id"]')" "$first_id"
n2=$(surge_count)
bw_expect_eq "the surge grew" "$([ "$n2" -gt "$n" ] && echo yes)" yes
bw_expect_eq "updated count" "$(field '" %s " % sys.argv[2] in c[1]["summary"]' "$n2")" True

# The agent: it owns org.bouncewatch.Agent; the hook leaves the alert to it.
# The actions run this stub with the file to show, instead of a viewer.
cat >"$BW_TMP/show-report" <<EOF
#!/bin/sh
cp "\$1" "$BW_TMP/shown-\$(basename "\$1")"
EOF
chmod +x "$BW_TMP/show-report"
"$BW_BIN" watch --poll 0 --debounce 100 -v --report-command "$BW_TMP/show-report" \
    2>"$BW_TMP/agent.log" &
agent_pid=$!
"$PY" "$MOCK" wait-name org.bouncewatch.Agent 10 || echo "FAIL: the agent did not take its bus name"
sleep 1
bw_expect_eq "agent start: the surge was already alerted" "$(ncalls)" 2
export BOUNCEWATCH_NOW=2026-11-20T14:45:00+00:00
flood 60 20 2026-11-20T14:45:00+00:00
bw_expect_ok "hook hands over to the agent" "$BW_BIN" hook post-new
wait_calls 3
bw_expect_eq "the agent updated the notification" "$(ncalls)" 3
bw_expect_eq "still the same notification" "$(field 'c[2]["replaces_id"]')" "$first_id"
bw_expect_eq "the agent's notification has the actions" \
    "$(field 'all(a in c[2]["actions"] for a in ("show-report", "secure", "mute"))')" True

# Without the hook: the agent sees the database change by itself.
export BOUNCEWATCH_NOW=2026-11-20T14:47:00+00:00
flood 80 20 2026-11-20T14:47:00+00:00
wait_calls 4
bw_expect_eq "the agent noticed the change itself" "$(ncalls)" 4
bw_expect_eq "again in place" "$(field 'c[3]["replaces_id"]')" "$first_id"

# The actions: the report (through --report-command) and the advice.
"$PY" "$MOCK" invoke "$first_id" show-report
"$PY" "$MOCK" invoke "$first_id" secure
i=0
while { [ ! -s "$BW_TMP/shown-report.txt" ] || [ ! -s "$BW_TMP/shown-secure-your-account.txt" ]; } && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
bw_expect_eq "Show report runs the command with the report" \
    "$(grep -c 'Campaigns of forged mail' "$BW_TMP/shown-report.txt" 2>/dev/null)" 1
bw_expect_eq "How to secure my account writes the advice" \
    "$(grep -c 'two-step verification' "$BW_TMP/shown-secure-your-account.txt" 2>/dev/null)" 1

# Mute: the campaign stays silent while it keeps growing.
"$PY" "$MOCK" invoke "$first_id" mute
i=0
while ! grep -q 'muted' "$BW_TMP/agent.log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q 'muted' "$BW_TMP/agent.log" || { echo "FAIL: the agent did not mute"; cat "$BW_TMP/agent.log"; bw_fail_count=$((bw_fail_count + 1)); }
export BOUNCEWATCH_NOW=2026-11-20T14:50:00+00:00
flood 100 20 2026-11-20T14:50:00+00:00
bw_expect_ok "hook after mute" "$BW_BIN" hook post-new
sleep 1.5
bw_expect_eq "a muted campaign stays silent" "$(ncalls)" 4
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null
agent_pid=

# No session bus: the alert goes to stderr, the hook still succeeds.
export XDG_DATA_HOME="$BW_TMP/fresh-state"
rc=0
# (no XDG_RUNTIME_DIR/bus either, nor X11 autolaunch: GLib would find them)
mkdir -p "$BW_TMP/no-runtime"
env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY XDG_RUNTIME_DIR="$BW_TMP/no-runtime" \
    "$BW_BIN" hook post-new 2>"$BW_TMP/nobus.log" || rc=$?
bw_expect_eq "no server: exit 0" "$rc" 0
bw_expect_eq "no server: the alert is logged" \
    "$(grep -c 'reports about mail you never sent' "$BW_TMP/nobus.log")" 1
bw_expect_eq "no server: no notification sent" "$(ncalls)" 4

# No notification module (a server is there): said once, the alert is
# logged, the hook still succeeds; the same with a file that is no module.
for case in missing:"$BW_TMP/no-such-dir/bouncewatch-notify.so":"cannot open shared object file" \
            foreign:"$BW_BUILDDIR/.libs/bouncewatch-engine.so":"not a bouncewatch notification module"; do
    what=${case%%:*} rest=${case#*:}
    module=${rest%%:*} why=${rest#*:}
    export XDG_DATA_HOME="$BW_TMP/state-$what"
    rc=0
    BOUNCEWATCH_NOTIFY_MODULE="$module" "$BW_BIN" hook post-new 2>"$BW_TMP/$what.log" || rc=$?
    bw_expect_eq "$what module: exit 0" "$rc" 0
    bw_expect_eq "$what module: said once, with why" \
        "$(grep -c "cannot load the notification module .*$why" "$BW_TMP/$what.log")" 1
    bw_expect_eq "$what module: the alert is logged" \
        "$(grep -c 'reports about mail you never sent' "$BW_TMP/$what.log")" 1
    bw_expect_eq "$what module: no notification sent" "$(ncalls)" 4
done

# The same in Japanese (po/ja.po), when a Japanese locale can be had.
if bw_ja_setup; then
    export XDG_DATA_HOME="$BW_TMP/state-ja"
    LC_ALL=ja_JP.UTF-8 LANGUAGE=ja BOUNCEWATCH_NOTIFY_MODULE="$BW_TMP/no-such-dir/bouncewatch-notify.so" \
        "$BW_BIN" hook post-new 2>"$BW_TMP/ja.log" || true
    bw_expect_eq "missing module, in Japanese: said, with what to do" \
        "$(bw_count "$BW_TMP/ja.log" '通知モジュール .* を読み込めません: .*bouncewatch doctor を実行してください')" 1
    unset BOUNCEWATCH_LOCALEDIR LOCPATH
fi

# The agent runs for days: a module that could not be loaded at its start
# (an upgrade half done) is tried again at the next alert, and once it is
# there the alerts are shown again.  Said once each way, not on every
# alert; and not "no notification server" (one is there).
export XDG_DATA_HOME="$BW_TMP/state-later"
later="$BW_TMP/later/bouncewatch-notify.so"
n0=$(ncalls)
BOUNCEWATCH_NOTIFY_MODULE="$later" "$BW_BIN" watch --poll 0 --debounce 100 -v \
    2>"$BW_TMP/later.log" &
agent_pid=$!
"$PY" "$MOCK" wait-name org.bouncewatch.Agent 10 || echo "FAIL: the agent did not take its bus name"
# wait_log PATTERN N: wait (10 s at most) until the agent's log has N lines of PATTERN
wait_log() {
    i=0
    while [ "$(bw_count "$BW_TMP/later.log" "$1")" -lt "$2" ] && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
}
wait_log 'reports about mail you never sent' 1
export BOUNCEWATCH_NOW=2026-11-20T14:55:00+00:00
flood 120 20 2026-11-20T14:55:00+00:00
wait_log 'reports about mail you never sent' 2
bw_expect_eq "module missing at the agent's start: both alerts logged" \
    "$(bw_count "$BW_TMP/later.log" 'reports about mail you never sent')" 2
bw_expect_eq "module missing at the agent's start: no notification" "$(ncalls)" "$n0"
bw_expect_eq "module missing at the agent's start: said once" \
    "$(bw_count "$BW_TMP/later.log" "cannot load the notification module $later: .*cannot open shared object file.*bouncewatch doctor")" 1
bw_expect_eq "module missing at the agent's start: not 'no notification server'" \
    "$(bw_count "$BW_TMP/later.log" 'no notification server')" 0
mkdir -p "$BW_TMP/later"
cp "$BW_BUILDDIR/.libs/bouncewatch-notify.so" "$later"
sleep 1   # (one attempt a second at the most)
export BOUNCEWATCH_NOW=2026-11-20T15:00:00+00:00
flood 140 20 2026-11-20T15:00:00+00:00
wait_calls $((n0 + 1))
bw_expect_eq "module there later: the agent shows the alert" "$(ncalls)" $((n0 + 1))
bw_expect_eq "module there later: with the actions" \
    "$(field 'all(a in c[-1]["actions"] for a in ("show-report", "secure", "mute"))')" True
bw_expect_eq "module there later: said once" \
    "$(bw_count "$BW_TMP/later.log" "notification module $later is loaded now")" 1
bw_expect_eq "module there later: the failure not said again" \
    "$(bw_count "$BW_TMP/later.log" 'cannot load the notification module')" 1
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null
agent_pid=

# A broken setup never makes `notmuch new` fail: the hook logs and exits 0.
rc=0
NOTMUCH_CONFIG="$BW_TMP/missing-config" "$BW_BIN" hook post-new 2>"$BW_TMP/broken.log" || rc=$?
bw_expect_eq "broken config: exit 0" "$rc" 0
bw_expect_eq "broken config: logged, with what to do" "$(grep -c 'bouncewatch hook:.*notmuch setup' "$BW_TMP/broken.log")" 1

bw_done
