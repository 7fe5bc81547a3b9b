#!/bin/sh
# T113-alot: plugins/alot in a real alot under tmux, on the demo mailbox
# tagged by the hook: the config and hooks load, and each key of the
# config does what the README says when pressed: B searches the backscatter,
# meta b the real bounces, meta B shows the report in less (it once passed
# its command to --spawn, which takes a yes or no, and did nothing), meta n
# (a hook) tells the unread count.
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

legit=$(notmuch count 'tag:bounce and not tag:backscatter')
unset PAGER
# The program on PATH, as after make install (the keys run `bouncewatch`).
mkdir -p "$BW_TMP/bin"
ln -s "$BW_BIN" "$BW_TMP/bin/bouncewatch"
export PATH="$BW_TMP/bin:$PATH"
bw_tmux_start alot "alot -c '$conf/config' -n '$NOTMUCH_CONFIG'; sleep 5"
bw_tmux_expect "alot started with the config" "[0: search]" || bw_done
bw_expect_eq "no configuration error" "$(printf '%s\n' "$BW_SCREEN" | grep -ci 'error')" 0

bw_tmux_keys B
bw_tmux_expect "B searches the backscatter" "for \"tag:backscatter\""
bw_expect_eq "B: every unread report" \
    "$(printf '%s\n' "$BW_SCREEN" | grep -c "for \"tag:backscatter\" .* $want of")" 1

bw_tmux_keys M-b
bw_tmux_expect "meta b searches the real bounces" "for \"tag:bounce and not tag:backscatter\""
bw_expect_eq "meta b: the real bounces" \
    "$(printf '%s\n' "$BW_SCREEN" | grep -c "for \"tag:bounce and not tag:backscatter\" .* $legit of")" 1

bw_tmux_keys M-n
bw_tmux_expect "meta n tells the count" "bouncewatch: $want unread backscatter report"

bw_tmux_keys M-B
if bw_tmux_expect "meta B shows the report" "What to do first:"; then
    bw_expect_eq "meta B: the report's headline" "$(printf '%s\n' "$BW_SCREEN" | grep -c '^Spoofing: ')" 1
fi
bw_expect_eq "meta B: no error" "$(printf '%s\n' "$BW_SCREEN" | grep -ci 'invalid\|not found\|error code')" 0
bw_tmux_keys q
bw_tmux_expect "back in alot after the report" "for \"tag:bounce and not tag:backscatter\"" 10
bw_done
