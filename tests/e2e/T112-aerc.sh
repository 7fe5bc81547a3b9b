#!/bin/sh
# T112-aerc: plugins/aerc in a real aerc under tmux, on the demo mailbox
# tagged by the hook: the query-map gives the Backscatter and Bounces
# folders with the right counts, the configuration loads without error, and
# each key of binds.conf does what the README says when pressed: Alt-b
# switches to the backscatter, Alt-r shows the report in a terminal tab.
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

unset PAGER
# The program on PATH, as after make install (the keys run `bouncewatch`).
mkdir -p "$BW_TMP/bin"
ln -s "$BW_BIN" "$BW_TMP/bin/bouncewatch"
export PATH="$BW_TMP/bin:$PATH"
bw_tmux_start aerc "aerc; sleep 5"
bw_tmux_expect "aerc shows the folders" "Backscatter" || bw_done
# aerc fills the folder list in the background: the counts come last.
bw_tmux_wait "Bounces  " 15
sleep 1
screen=$(bw_tmux_screen)
bw_expect_eq "Backscatter folder" "$(printf '%s\n' "$screen" | grep -c '^Backscatter  ')" 1
bw_expect_eq "Bounces folder with the real bounces" \
    "$(printf '%s\n' "$screen" | grep -c "^Bounces  *$legit\( \|\$\)")" 1
bw_expect_eq "no configuration error" "$(printf '%s\n' "$screen" | grep -ci 'error\|unknown')" 0
bw_expect_eq "Bounces shows no backscatter" "$(printf '%s\n' "$screen" | grep -c 'Invoice #')" 0

# Alt-b: the backscatter folder.
bw_tmux_keys M-b
bw_tmux_expect "Alt-b shows the backscatter" "Invoice #"

# Alt-r: the report, in less in a terminal tab of aerc.
bw_tmux_keys M-r
if bw_tmux_expect "Alt-r shows the report" "What to do first:"; then
    bw_expect_eq "Alt-r: the report's headline" "$(printf '%s\n' "$BW_SCREEN" | grep -c '^Spoofing: ')" 1
fi
bw_expect_eq "Alt-r: no shell error" "$(printf '%s\n' "$BW_SCREEN" | grep -c 'not found\|sh: ')" 0
bw_tmux_keys q
bw_done
