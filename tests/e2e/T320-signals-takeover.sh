#!/bin/sh
# T320-signals-takeover: a quiet takeover (tests/fixtures/make-takeover-
# mailbox.py: the provider's sign-in alert, 2-step verification turned off,
# 48 messages in Sent from the webmail at night, their bounces, friends
# asking, the provider limiting sending, a phishing imitation) delivered in
# three phases through `notmuch new` and `hook post-new`, with python3-
# dbusmock's notification daemon on a private D-Bus session:
#   - the mail up to the day before: no notification;
#   - up to an hour after the last message of the run: exactly one, critical;
#   - all of it: no new notification (an update of the same one is fine).
# Then the SPEC 2b document: the signals by kind, the run's reports as one
# own-account campaign, compromise-suspected; the tags bw/signal and
# bw/phishing; the human report's "Signs about your account" (and in
# Japanese); and the phased state gives what a full scan of the same mail
# gives (incremental == full, independent of the arrival order).
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

bw_require_bin
bw_require_cmd notmuch dbus-run-session
bw_require_dbusmock
if [ "${1:-}" != "--inner" ]; then
    exec dbus-run-session -- sh "$0" --inner
fi

bw_tmpdir
MOCK="$BW_SRCDIR/tests/e2e/notify-mock.py"
MAKE="$BW_SRCDIR/tests/fixtures/make-takeover-mailbox.py"
mail="$BW_TMP/mail"
"$PY" -m dbusmock --template notification_daemon >"$BW_TMP/mock.log" 2>&1 &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null; rm -rf "$BW_TMP"' EXIT
"$PY" "$MOCK" wait-name org.freedesktop.Notifications 10 || bw_skip "mock server did not start"
calls() {
    "$PY" "$MOCK" calls | "$PY" -c 'import json, sys
c = [json.loads(l) for l in sys.stdin]
print(eval(sys.argv[1]))' "$1"
}
export XDG_DATA_HOME="$BW_TMP/data"
eval "$("$PY" "$MAKE" x --print-times)"   # before, hijack_end, now

# phase 1: the day before the takeover
"$PY" "$MAKE" "$mail" --until "$before"
bw_notmuch_setup "$mail" jonas.weber@mailhost.example
BOUNCEWATCH_NOW=$before bw_expect_ok "hook, phase 1" "$BW_BIN" hook post-new --quiet
bw_expect_eq "phase 1: no notification" "$(calls 'len(c)')" 0

# phase 2: up to an hour after the hijacker's last message in Sent
"$PY" "$MAKE" "$mail" --until "$hijack_end"
notmuch new --no-hooks --quiet
BOUNCEWATCH_NOW=$hijack_end bw_expect_ok "hook, phase 2" "$BW_BIN" hook post-new --quiet
bw_expect_eq "phase 2: one notification" "$(calls 'len(c)')" 1
bw_expect_eq "phase 2: critical" "$(calls 'c[0]["hints"]["urgency"]')" 2
bw_expect_eq "phase 2: it names the account" \
    "$(calls '"jonas.weber@mailhost.example" in c[0]["body"]')" True
first_body=$(calls 'c[0]["body"]')
case "$first_body" in
    *"2-step verification"*|*"Sent folder"*) ;;
    *) echo "FAIL: the notification says what the signals show"; echo "$first_body"
       bw_fail_count=$((bw_fail_count + 1)) ;;
esac

# phase 3: everything (the provider's block, the phishing, later mail)
"$PY" "$MAKE" "$mail"
notmuch new --no-hooks --quiet
BOUNCEWATCH_NOW=$now bw_expect_ok "hook, phase 3" "$BW_BIN" hook post-new --quiet
bw_expect_eq "phase 3: no new notification" \
    "$(calls 'sum(1 for x in c if x["replaces_id"] == 0)')" 1
bw_expect_eq "phase 3: updates replace the first one" \
    "$(calls 'len(c) == 1 or all(x["replaces_id"] != 0 for x in c[1:])')" True

# the document
export BOUNCEWATCH_NOW=$now
"$BW_BIN" scan --json >"$BW_TMP/phased.json" || bw_expect_eq "scan" failed ok
check=$("$PY" - "$BW_TMP/phased.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = sorted(s["kind"] for s in d["signals"])
run = [s for s in d["signals"] if s["kind"] == "sent-anomaly"]
bs = [b for b in d["bounces"] if b["class"] == "backscatter"]
camps = {b["campaign"] for b in bs}
own = [c for c in d["campaigns"] if c["origin"] == "own-account"]
print(" ".join(kinds))
print(d["assessment"]["status"])
print(len(run[0]["members"]) if run else 0)
print("%d %d %d" % (len(bs), len(camps), len(own)))
print(" ".join(p["message_id"] for p in d["phishing"]))
PY
)
bw_expect_eq "signals, status, run, reports, phishing" "$check" "human-reply human-reply human-reply sending-blocked sent-anomaly sign-in-alert two-factor-changed
compromise-suspected
48
7 1 1
phish-1@mailhost-secure.example"

# tags (the hook tags): every message behind a signal, the imitation
bw_expect_eq "bw/signal" "$(notmuch count tag:bw/signal)" 54
bw_expect_eq "bw/phishing" "$(notmuch count tag:bw/phishing)" 1
bw_expect_eq "the phishing is no signal" "$(notmuch count tag:bw/signal and tag:bw/phishing)" 0

# the human report
report=$("$BW_BIN" scan 2>&1)
for want in "Signs about your account" "New sign-in" "do not click" "Turn 2-step verification back on"; do
    case "$report" in
        *"$want"*) ;;
        *) echo "FAIL: the report lacks '$want'"; bw_fail_count=$((bw_fail_count + 1)) ;;
    esac
done
if bw_ja_setup; then
    ja=$(LC_ALL=ja_JP.UTF-8 LANGUAGE=ja "$BW_BIN" scan 2>&1)
    case "$ja" in
        *"アカウントに関する兆候"*"クリックしないでください"*) ;;
        *) echo "FAIL: the Japanese report"; echo "$ja" | head -20; bw_fail_count=$((bw_fail_count + 1)) ;;
    esac
fi

# same_as_full WHAT: `scan --json` from the state the phases built is the
# document a full scan of the same mail gives, from an empty state
# (incremental == full, independent of the arrival order)
same_as_full() {
    "$BW_BIN" scan --json >"$BW_TMP/p.json" || bw_expect_eq "$1: scan" failed ok
    rm -rf "$BW_TMP/fresh"
    XDG_DATA_HOME="$BW_TMP/fresh" "$BW_BIN" scan --json >"$BW_TMP/f.json" ||
        bw_expect_eq "$1: full scan" failed ok
    "$PY" - "$BW_TMP/p.json" "$BW_TMP/f.json" <<'PY' || bw_expect_eq "$1: == full" differs identical
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("revision", None)
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        print("  differs: %s" % k)
sys.exit(0 if a == b else 1)
PY
}
same_as_full "phases 1-3"

# phase 4: later mail that changes nothing the signals were judged on (a
# stranger's newsletter): the stage keeps its runs and judges only the new
# fact (its memo); then a message the owner sent: it looks for runs again.
# Each time the state gives what a full scan gives.
# later FOLDER FROM TO SUBJECT MINUTES_BEFORE_NOW ID: one message into the
# mail store, indexed, and the hook run on it (its timing in $BW_TMP/hook.err)
later() {
    mkdir -p "$mail/$1/cur" "$mail/$1/new" "$mail/$1/tmp"
    "$PY" - "$mail/$1/cur" "$now" "$2" "$3" "$4" "$5" "$6" <<'PY'
import datetime, email.utils, sys
out, now, frm, to, subject, minutes, mid = sys.argv[1:8]
t = datetime.datetime.fromisoformat(now).timestamp() - 60 * int(minutes)
open("%s/%s:2,S" % (out, mid.split("@")[0]), "w").write(
    "From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%s>\n\nHello.\n"
    % (frm, to, subject, email.utils.formatdate(t), mid))
PY
    notmuch new --no-hooks --quiet
    BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" hook post-new --quiet 2>"$BW_TMP/hook.err" ||
        bw_expect_eq "hook after $6" failed ok
}
later later "Garden Club <news@garden-club.example>" jonas.weber@mailhost.example \
    "Spring planting" 30 later-1@garden-club.example
bw_expect_eq "phase 4: the memo is used" "$(grep -c 'timing: signals+memo' "$BW_TMP/hook.err")" 1
same_as_full "phase 4"
# the owner sends a message: the sent rows change
later Sent "Jonas Weber <jonas.weber@mailhost.example>" anna@example.org weekend 20 \
    later-2@mailhost.example
bw_expect_eq "phase 5: the runs are looked for again" \
    "$(grep -c 'timing: signals  ' "$BW_TMP/hook.err")" 1
same_as_full "phase 5"

# phase 6: nothing new, an hour later.  `scan --json` answers from the
# snapshot, `scan --json --tag` from the stored reports; both judge the
# stored facts against the account the saving run's signals stage had
# (the sent mail's, before the originals taught the profile more), so the
# memo serves (the runs and the verdicts, not every stored row judged
# again) and the answer is a full scan's at that hour.
BOUNCEWATCH_NOW=$("$PY" -c 'import datetime, sys
print((datetime.datetime.fromisoformat(sys.argv[1]) + datetime.timedelta(hours=1)).isoformat())' "$now")
export BOUNCEWATCH_NOW
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >/dev/null 2>"$BW_TMP/nn.err" ||
    bw_expect_eq "phase 6: scan" failed ok
bw_expect_eq "phase 6: served from the snapshot, with the memo" \
    "$(grep -c -e 'timing: snapshot ' -e 'timing: signals+memo ' "$BW_TMP/nn.err")" 2
same_as_full "phase 6"
BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json --tag >"$BW_TMP/nn-tag.json" 2>"$BW_TMP/nn-tag.err" ||
    bw_expect_eq "phase 6: scan --tag" failed ok
bw_expect_eq "phase 6, --tag: the stored reports loaded, with the memo" \
    "$(grep -c -e 'timing: load ' -e 'timing: signals+memo ' "$BW_TMP/nn-tag.err")" 2
cmp -s "$BW_TMP/nn-tag.json" "$BW_TMP/p.json" ||
    bw_expect_eq "phase 6, --tag: the document" differs "as from the snapshot"
bw_done
