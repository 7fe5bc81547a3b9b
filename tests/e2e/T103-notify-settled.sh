#!/bin/sh
# T103-notify-settled: once the hook has shown every alert a surge calls
# for, the next hooks with nothing new stop after reading the state (no
# load of the stored reports, BOUNCEWATCH_DEBUG_TIMING says "settled") and
# show nothing; a new hour, a clock set back or an alert that was not shown
# (--no-notify) make the hook go the long way again, and the alert not
# shown is shown then.  Against a notification server on a private D-Bus
# session (python3-dbusmock).
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

bw_require_bin
bw_require_cmd notmuch dbus-run-session
bw_require_dbusmock

if [ "${1:-}" != "--inner" ]; then
    exec dbus-run-session -- sh "$0" --inner
fi

bw_tmpdir
bw_notify_mock
GEN="$BW_SRCDIR/contrib/demo/build-mailbox.py"
mail="$BW_TMP/mail"

ncalls() { "$PY" "$MOCK" calls | wc -l | tr -d ' '; }
# hook AT [options]: `hook post-new` at that "now", its timing lines kept
hook() {
    at=$1
    shift
    BOUNCEWATCH_NOW=$at BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" hook post-new "$@" \
        2>"$BW_TMP/hook.log"
}
# stage NAME: how many timing lines the last hook printed for that stage
stage() { grep -c "timing: $1 " "$BW_TMP/hook.log"; }
flood() {  # flood FIRST COUNT NOW
    "$PY" "$GEN" "$mail" --flood "$2" --flood-start "$1" --now "$3" --spread-minutes 25
    notmuch new --no-hooks --quiet
}

"$PY" "$GEN" "$mail" --base --now 2026-11-20T14:30:00+00:00
bw_notmuch_setup "$mail" alex@example.org
hook 2026-11-20T14:30:00+00:00

# The flood: one notification; that run settles it at once.
flood 0 40 2026-11-20T14:30:00+00:00
hook 2026-11-20T14:30:00+00:00
bw_expect_eq "one notification for the flood" "$(ncalls)" 1
bw_expect_eq "the flood's run saved it" "$(stage campaigns+save)" 1

# Nothing new, the surge still under way: no load, no second notification.
hook 2026-11-20T14:35:00+00:00
bw_expect_eq "nothing new after an alert shown: settled" "$(stage settled)" 1
bw_expect_eq "settled: the stored reports are not loaded" "$(stage load)" 0
bw_expect_eq "settled: no surge detection, no assessment" "$(stage surges)$(stage assess)" 00
bw_expect_eq "settled: no second notification" "$(ncalls)" 1
hook 2026-11-20T14:59:59+00:00
bw_expect_eq "settled until the end of the hour" "$(stage settled)" 1

# A clock set back: the long way (a surge may be under way again), silent.
hook 2026-11-20T14:20:00+00:00
bw_expect_eq "an earlier now is not settled" "$(stage settled)$(stage load)" 01
bw_expect_eq "an earlier now: no notification" "$(ncalls)" 1

# A new hour: the surge's hours may change, the long way once, silent; it
# settles again.
hook 2026-11-20T15:05:00+00:00
bw_expect_eq "a new hour goes the long way" "$(stage settled)$(stage load)" 01
bw_expect_eq "a new hour: no notification" "$(ncalls)" 1
hook 2026-11-20T15:06:00+00:00
bw_expect_eq "settled again in the new hour" "$(stage settled)" 1

# Growth the hook does not show (--no-notify): nothing is settled, and the
# next run with nothing new shows it (in place), then settles.
flood 40 20 2026-11-20T15:10:00+00:00
hook 2026-11-20T15:10:00+00:00 --no-notify
bw_expect_eq "--no-notify shows nothing" "$(ncalls)" 1
hook 2026-11-20T15:11:00+00:00
bw_expect_eq "an alert not shown is not settled" "$(stage settled)$(stage load)" 01
bw_expect_eq "the next run shows it" "$(ncalls)" 2
bw_expect_eq "in place of the first one" \
    "$("$PY" "$MOCK" calls | sed -n 2p | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["replaces_id"])')" 1
hook 2026-11-20T15:12:00+00:00
bw_expect_eq "then settled" "$(stage settled)" 1
bw_expect_eq "and silent" "$(ncalls)" 2

# New mail that is no report still goes the long way (nothing_new is false).
mkdir -p "$mail/extra/cur" "$mail/extra/new" "$mail/extra/tmp"
cat >"$mail/extra/cur/1763651580.T103.host:2,S" <<'MSG'
From: Sam Lee <sam@friends.example>
To: Alex Morgan <alex@example.org>
Subject: lunch?
Date: Thu, 20 Nov 2026 15:13:00 +0000
Message-ID: <t103-lunch@friends.example>

Tomorrow at noon?
MSG
notmuch new --no-hooks --quiet
hook 2026-11-20T15:14:00+00:00
bw_expect_eq "new mail: not settled" "$(stage settled)" 0
bw_expect_eq "new mail, no growth: silent" "$(ncalls)" 2

bw_done
