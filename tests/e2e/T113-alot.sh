#!/bin/sh
# T113-alot: plugins/alot in a real alot under tmux, on the demo mailbox
# tagged by the hook: the config and hooks load, B searches the backscatter,
# meta n (a hook) tells the unread count.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch alot tmux python3
bw_tmpdir
mail="$BW_TMP/mail"
export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00 LC_ALL=C.UTF-8 LANGUAGE= TERM=xterm-256color
python3 "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --flood 30 \
    --spread-minutes 25 --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$mail" alex@example.org
"$BW_BIN" hook post-new --no-notify
want=$(notmuch count 'tag:backscatter and tag:unread')

conf="$XDG_CONFIG_HOME/alot"
mkdir -p "$conf"
cp "$BW_SRCDIR/plugins/alot/hooks.py" "$conf/hooks.py"
sed "s|~/.config/alot/hooks.py|$conf/hooks.py|" "$BW_SRCDIR/plugins/alot/config" >"$conf/config"
printf '[accounts]\n  [[demo]]\n    realname = Alex Morgan\n    address = alex@example.org\n' >>"$conf/config"

session="bw-alot-$$"
tmux -L "$session" new-session -d -x 160 -y 40 \
    "alot -c '$conf/config' -n '$NOTMUCH_CONFIG' 2>'$BW_TMP/alot.err'; sleep 5"
trap 'tmux -L "$session" kill-server 2>/dev/null; rm -rf "$BW_TMP"' EXIT
cap() { tmux -L "$session" capture-pane -p 2>/dev/null || true; }
screen=""
i=0
while [ $i -lt 50 ]; do
    sleep 0.2
    screen=$(cap)
    case $screen in *"[0: search]"*) break ;; esac
    i=$((i + 1))
done
tmux -L "$session" send-keys B
sleep 1.5
screen2=$(cap)
tmux -L "$session" send-keys M-n
sleep 1
screen3=$(cap)

bw_expect_eq "alot started with the config" "$(printf '%s\n' "$screen" | grep -c '\[0: search\]')" 1
bw_expect_eq "no configuration error" "$(printf '%s\n' "$screen" | grep -ci 'error')" 0
bw_expect_eq "B searches the backscatter" \
    "$(printf '%s\n' "$screen2" | grep -c "for \"tag:backscatter\" .* $want of")" 1
bw_expect_eq "meta n tells the count" \
    "$(printf '%s\n' "$screen3" | grep -c "bouncewatch: $want unread backscatter report")" 1
if [ "$bw_fail_count" -ne 0 ]; then
    printf -- '--- start\n%s\n--- B\n%s\n--- meta n\n%s\n' "$screen" "$screen2" "$screen3"
fi
bw_done
