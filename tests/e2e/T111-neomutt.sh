#!/bin/sh
# T111-neomutt: plugins/neomutt in a real NeoMutt under tmux, on the demo
# mailbox tagged by the hook: the muttrc loads without errors, the campaign
# helper makes one virtual mailbox per campaign (ids only, even when the
# forged subject carries quotes, backticks and semicolons), the status bar
# shows the unread backscatter count, and every key of the plugin does what
# its README says when pressed: Alt-B shows the report in the pager (NeoMutt
# does not expand ${PAGER:-less} inside a double-quoted macro: it once ran
# ":-less"), Alt-b opens the backscatter, Alt-M takes a report out of the
# inbox.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch neomutt tmux python3
bw_tmpdir
mail="$BW_TMP/mail"
export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00 LC_ALL=C LANGUAGE= TERM=xterm
python3 "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --flood 30 \
    --spread-minutes 25 --now "$BOUNCEWATCH_NOW" --subject 'Invoice "{n}" `id` ; exec'
bw_notmuch_setup "$mail" alex@example.org
"$BW_BIN" hook post-new --no-notify
want=$(notmuch count 'tag:backscatter and tag:unread')

# The plugin's helpers and the program itself on PATH, as after make install.
mkdir -p "$BW_TMP/bin"
ln -s "$BW_BIN" "$BW_TMP/bin/bouncewatch"
export PATH="$BW_TMP/bin:$BW_SRCDIR/plugins/neomutt:$PATH"

lines=$(bouncewatch-neomutt-campaigns)
bw_expect_eq "one campaign mailbox" "$(printf '%s\n' "$lines" | grep -c '^virtual-mailboxes "bw: bw-[0-9a-f]\{8\} ([0-9]*)" "notmuch://?query=tag:bw/bw-[0-9a-f]\{8\}"$')" 1
bw_expect_eq "no mail text in muttrc lines" "$(printf '%s\n' "$lines" | grep -c 'Invoice\|exec')" 0

# The JSON contract: the helper asks for format version 1; when bouncewatch
# cannot write it (exit 20/21) NeoMutt shows which side to upgrade (an
# `echo` command NeoMutt accepts), and no mailbox line.
for rc in 20 21; do
    mkdir -p "$BW_TMP/bin$rc"
    printf '#!/bin/sh\nexit %s\n' "$rc" >"$BW_TMP/bin$rc/bouncewatch"
    chmod +x "$BW_TMP/bin$rc/bouncewatch"
    printf 'source "bouncewatch-neomutt-campaigns |"\n' >"$BW_TMP/muttrc$rc"
    shown=$(PATH="$BW_TMP/bin$rc:$PATH" neomutt -n -F "$BW_TMP/muttrc$rc" -Q sort </dev/null 2>&1)
    case $rc in 20) want_text="update the NeoMutt plugin" ;; *) want_text="upgrade bouncewatch" ;; esac
    bw_expect_eq "exit $rc: message shown" "$(printf '%s\n' "$shown" | grep -c "$want_text")" 1
    bw_expect_eq "exit $rc: no NeoMutt error" "$(printf '%s\n' "$shown" | grep -ci 'error\|unknown command')" 0
done
mkdir -p "$BW_TMP/binlog"
cat >"$BW_TMP/binlog/bouncewatch" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$BW_TMP/args.log"
exec "$BW_BIN" "\$@"
EOF
chmod +x "$BW_TMP/binlog/bouncewatch"
PATH="$BW_TMP/binlog:$PATH" bouncewatch-neomutt-campaigns >/dev/null
bw_expect_eq "asks for format version 1" "$(grep -c -- '--format-version=1' "$BW_TMP/args.log")" 1

cat >"$BW_TMP/muttrc" <<EOF
set nm_default_url = "notmuch://$mail"
set virtual_spoolfile = yes
set folder = "$mail"
set sidebar_visible = yes
set sidebar_width = 30
source "$BW_SRCDIR/plugins/neomutt/bouncewatch.muttrc"
EOF
unset PAGER   # the macro's default pager, less
# stderr stays on the screen: what the user would see (a shell error of a
# macro, say).
bw_tmux_start neomutt "neomutt -n -F '$BW_TMP/muttrc'; sleep 5"
bw_tmux_expect "neomutt started" "NeoMutt: " || bw_done
screen=$BW_SCREEN
bw_expect_eq "no configuration error" "$(printf '%s\n' "$screen" | grep -ci 'error\|unknown command\|not found')" 0
bw_expect_eq "status bar counter" "$(printf '%s\n' "$screen" | grep -c "\[backscatter: $want\]")" 1
bw_expect_eq "campaign mailbox in the sidebar" "$(printf '%s\n' "$screen" | grep -c 'bw: bw-')" 1

# Alt-B: the report, in less; q leaves it, any key returns to NeoMutt.
bw_tmux_keys M-B
if bw_tmux_expect "Alt-B shows the report" "What to do first:"; then
    bw_expect_eq "Alt-B: the report's headline" "$(printf '%s\n' "$BW_SCREEN" | grep -c '^Spoofing: ')" 1
fi
bw_expect_eq "Alt-B: no shell error" "$(printf '%s\n' "$BW_SCREEN" | grep -c 'not found\|sh: ')" 0
bw_tmux_keys q
bw_tmux_wait "Press any key" 5 && bw_tmux_keys Enter
bw_tmux_expect "back in NeoMutt after the report" "NeoMutt: " 

# Alt-b: the backscatter mailbox.
bw_tmux_keys M-b
bw_tmux_expect "Alt-b opens the backscatter" "NeoMutt: Backscatter"

# Alt-M: the report under the cursor leaves the inbox (a notmuch tag).
before=$(notmuch count 'tag:backscatter and tag:inbox')
bw_tmux_keys M-M
i=0
while [ "$(notmuch count 'tag:backscatter and tag:inbox')" -ge "$before" ] && [ $i -lt 50 ]; do
    sleep 0.2; i=$((i + 1))
done
bw_expect_eq "Alt-M removes one report from the inbox" \
    "$(notmuch count 'tag:backscatter and tag:inbox')" "$((before - 1))"
bw_expect_eq "Alt-M keeps the report's other tags" "$(notmuch count tag:backscatter)" "$(notmuch count tag:bw/"$(notmuch search --output=tags tag:backscatter | grep '^bw/' | head -n 1 | cut -d/ -f2)")"
bw_tmux_keys q
bw_tmux_wait "Quit" 2 && bw_tmux_keys y
bw_done
