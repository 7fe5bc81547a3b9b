#!/bin/sh
# T112-aerc: plugins/aerc in a real aerc under tmux, on the demo mailbox
# tagged by the hook: the query-map gives the Backscatter and Bounces
# folders with the right counts, the configuration loads without error, and
# Alt-b (binds.conf) switches to the backscatter.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch aerc tmux python3
bw_tmpdir
mail="$BW_TMP/mail"
export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00 LC_ALL=C.UTF-8 LANGUAGE= TERM=xterm-256color
python3 "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --flood 30 \
    --spread-minutes 25 --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$mail" alex@example.org
"$BW_BIN" hook post-new --no-notify
legit=$(notmuch count 'tag:bounce and not tag:backscatter')

conf="$XDG_CONFIG_HOME/aerc"
mkdir -p "$conf"
cp "$BW_SRCDIR/plugins/aerc/notmuch-queries" "$conf/bouncewatch-queries"
cp "$BW_SRCDIR/plugins/aerc/binds.conf" "$conf/binds.conf"
cp "$BW_SRCDIR/plugins/aerc/aerc.conf" "$conf/aerc.conf"
cat >"$conf/accounts.conf" <<EOF
[demo]
source = notmuch://$mail
query-map = $conf/bouncewatch-queries
default = Bounces
from = Alex Morgan <alex@example.org>
outgoing = /bin/true
EOF
chmod 600 "$conf/accounts.conf"

session="bw-aerc-$$"
tmux -L "$session" new-session -d -x 160 -y 40 "aerc 2>'$BW_TMP/aerc.err'; sleep 5"
trap 'tmux -L "$session" kill-server 2>/dev/null; rm -rf "$BW_TMP"' EXIT
screen=""
i=0
while [ $i -lt 75 ]; do
    sleep 0.2
    screen=$(tmux -L "$session" capture-pane -p 2>/dev/null || true)
    case $screen in *"Backscatter"*) break ;; esac
    i=$((i + 1))
done
sleep 1
screen=$(tmux -L "$session" capture-pane -p 2>/dev/null || true)
tmux -L "$session" send-keys M-b
# aerc loads the folder in the background: poll (up to 15 s on a loaded
# machine) rather than sleep a fixed time.
screen2=""
i=0
while [ $i -lt 75 ]; do
    sleep 0.2
    screen2=$(tmux -L "$session" capture-pane -p 2>/dev/null || true)
    case $screen2 in *"Invoice #"*) break ;; esac
    i=$((i + 1))
done

bw_expect_eq "Backscatter folder" "$(printf '%s\n' "$screen" | grep -c '^Backscatter  ')" 1
bw_expect_eq "Bounces folder with the real bounces" \
    "$(printf '%s\n' "$screen" | grep -c "^Bounces  *$legit\( \|\$\)")" 1
bw_expect_eq "no configuration error" "$(printf '%s\n' "$screen" | grep -ci 'error\|unknown')" 0
bw_expect_eq "Bounces shows no backscatter" "$(printf '%s\n' "$screen" | grep -c 'Invoice #')" 0
bw_expect_eq "Alt-b shows the backscatter" \
    "$([ "$(printf '%s\n' "$screen2" | grep -c 'Invoice #')" -gt 0 ] && echo yes)" yes
if [ "$bw_fail_count" -ne 0 ]; then
    echo "--- screen"; printf '%s\n' "$screen"; echo "--- after Alt-b"; printf '%s\n' "$screen2"
    cat "$BW_TMP/aerc.err" 2>/dev/null
fi
bw_done
