#!/bin/sh
# T110-emacs: plugins/emacs/bouncewatch.el (built from .el.in) in emacs --batch against the real
# program on the demo mailbox: the report buffer, the campaign list and the
# mode-line count; then in a real Emacs under tmux, every key the plugin
# gives, pressed: M-x bouncewatch-report, g (refresh), c (campaigns), RET on
# a campaign (its notmuch search), the saved search on key B of
# notmuch-hello (j B), and BW:N in the mode line.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch emacs python3
bw_tmpdir
mail="$BW_TMP/mail"
export BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00 LC_ALL=C LANGUAGE=
python3 "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --flood 30 \
    --spread-minutes 25 --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$mail" alex@example.org
"$BW_BIN" hook post-new --no-notify
want=$(notmuch count 'tag:backscatter and tag:unread')
[ "$want" -gt 0 ] || echo "FAIL: the hook tagged no backscatter"

out=$(emacs --batch -Q -L "$BW_BUILDDIR/plugins/emacs" --eval "(require (quote bouncewatch))" --eval "
(progn
  (setq bouncewatch-program \"$BW_BIN\")
  (with-current-buffer (bouncewatch-report)
    (princ (format \"mode=%s\n\" major-mode))
    (princ (format \"report=%s\n\" (if (search-forward \"Campaigns of forged mail\" nil t) \"yes\" \"no\"))))
  (with-current-buffer (bouncewatch-campaigns)
    (goto-char (point-min))
    (princ (format \"campaign=%s\n\" (if (re-search-forward \"^bw-[0-9a-f]\\\\{8\\\\} \" nil t) \"yes\" \"no\"))))
  (bouncewatch-update-mode-line)
  (let ((n 0))
    (while (and (string= bouncewatch--mode-line-string \"\") (< n 100))
      (accept-process-output nil 0.1) (setq n (1+ n))))
  (princ (format \"modeline=%s\n\" (substring-no-properties bouncewatch--mode-line-string)))
  (bouncewatch-mode-line-mode 1)
  (princ (format \"global=%s\n\" (if (memq 'bouncewatch--mode-line-string global-mode-string) \"yes\" \"no\")))
  (bouncewatch-mode-line-mode -1))" 2>"$BW_TMP/emacs.err") || { echo "FAIL: emacs exited $?"; cat "$BW_TMP/emacs.err"; }
get() { printf '%s\n' "$out" | sed -n "s/^$1=//p"; }

# The JSON contract: the plugin asks for the format version it knows, and
# says which side to upgrade when bouncewatch cannot give it (exit 20/21).
cat >"$BW_TMP/bw-logged" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$BW_TMP/args.log"
exec "$BW_BIN" "\$@"
EOF
for rc in 20 21; do printf '#!/bin/sh\nexit %s\n' "$rc" >"$BW_TMP/bw-exit$rc"; done
chmod +x "$BW_TMP/bw-logged" "$BW_TMP/bw-exit20" "$BW_TMP/bw-exit21"
out2=$(emacs --batch -Q -L "$BW_BUILDDIR/plugins/emacs" --eval "(require (quote bouncewatch))" --eval "
(progn
  (setq bouncewatch-program \"$BW_TMP/bw-logged\")
  (princ (format \"campaigns=%d\n\" (length (bouncewatch--campaigns))))
  (dolist (rc '(20 21))
    (setq bouncewatch-program (format \"$BW_TMP/bw-exit%d\" rc))
    (princ (format \"exit%d=%s\n\" rc
                   (condition-case e (progn (bouncewatch-campaigns) \"no error\")
                     (user-error (cadr e)))))))" 2>"$BW_TMP/emacs2.err") || { echo "FAIL: emacs exited $?"; cat "$BW_TMP/emacs2.err"; }
get2() { printf '%s\n' "$out2" | sed -n "s/^$1=//p"; }
bw_expect_eq "campaigns through --format-version" "$(get2 campaigns)" 1
bw_expect_eq "asks for format version 1" "$(grep -c -- '^scan --quiet --json --format-version=1$' "$BW_TMP/args.log")" 1
case $(get2 exit20) in *"update bouncewatch.el"*) ;; *) echo "FAIL: exit 20 message: $(get2 exit20)"; bw_fail_count=$((bw_fail_count + 1)) ;; esac
case $(get2 exit21) in *"upgrade bouncewatch"*) ;; *) echo "FAIL: exit 21 message: $(get2 exit21)"; bw_fail_count=$((bw_fail_count + 1)) ;; esac
bw_expect_eq "report buffer mode" "$(get mode)" bouncewatch-report-mode
bw_expect_eq "report shown" "$(get report)" yes
bw_expect_eq "campaign listed" "$(get campaign)" yes
bw_expect_eq "mode-line count" "$(get modeline)" " BW:$want"
bw_expect_eq "indicator in the mode line" "$(get global)" yes

# ---------------------------------------------------------------- keys
bw_require_cmd tmux
# notmuch-emacs (elpa-notmuch) for RET on a campaign and the saved search.
nmlisp=$(emacs --batch --eval '(princ (or (locate-library "notmuch") ""))' 2>/dev/null)
if [ -z "$nmlisp" ]; then
    echo "# notmuch-emacs not installed: only the plugin's own keys are pressed"
    nmdir=$BW_BUILDDIR/plugins/emacs
else
    nmdir=$(dirname "$nmlisp")
fi
mkdir -p "$BW_TMP/bin"
ln -s "$BW_BIN" "$BW_TMP/bin/bouncewatch"
export PATH="$BW_TMP/bin:$PATH" TERM=xterm-256color
cat >"$BW_TMP/init.el" <<EOF
(add-to-list 'load-path "$BW_BUILDDIR/plugins/emacs")
(add-to-list 'load-path "$nmdir")
(setq inhibit-startup-screen t)
(require 'notmuch nil t)
(require 'bouncewatch)
(bouncewatch-mode-line-mode 1)
EOF
bw_tmux_start emacs "emacs -nw -Q -l '$BW_TMP/init.el'; sleep 5"
bw_tmux_expect "emacs started" "*scratch*" || bw_done
bw_tmux_expect "BW:N in the mode line" "BW:$want"
bw_expect_eq "the mode line is valid" "$(printf '%s\n' "$BW_SCREEN" | grep -c '\*invalid\*')" 0

bw_tmux_keys M-x
bw_tmux_keys -l bouncewatch-report
bw_tmux_keys Enter
bw_tmux_expect "M-x bouncewatch-report shows the report" "What to do first:"
bw_tmux_expect "... in its own buffer" "*bouncewatch*"
bw_tmux_keys g
sleep 0.5
bw_tmux_expect "g keeps the refreshed report" "What to do first:"
bw_tmux_keys c
bw_tmux_expect "c lists the campaigns" "campaign       size  subject"
id=$(printf '%s\n' "$BW_SCREEN" | sed -n 's/^\(bw-[0-9a-f]\{8\}\) .*/\1/p' | head -n 1)
bw_expect_eq "c: a campaign line" "$(printf '%s' "$id" | grep -c '^bw-')" 1
if [ "$nmdir" != "$BW_BUILDDIR/plugins/emacs" ] && [ -n "$id" ]; then
    bw_tmux_keys C-n Enter
    bw_tmux_expect "RET searches the campaign" "tag:bw/$id"
    bw_tmux_expect "RET: its reports" "Invoice #"
    # The saved search of notmuch-hello, key B.
    bw_tmux_keys M-x
    bw_tmux_keys -l notmuch
    bw_tmux_keys Enter
    bw_tmux_expect "notmuch-hello lists the saved search" "backscatter"
    bw_tmux_keys j
    bw_tmux_keys B
    bw_tmux_expect "j B opens the saved search" "notmuch-saved-search-backscatter"
    bw_tmux_expect "j B: the backscatter" "Invoice #"
fi
bw_expect_eq "no error in the echo area" "$(bw_tmux_screen | grep -ci 'error\|not found\|void')" 0
bw_tmux_keys C-x C-c
bw_done
