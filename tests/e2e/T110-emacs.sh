#!/bin/sh
# T110-emacs: plugins/emacs/bouncewatch.el in emacs --batch against the real
# program on the demo mailbox: the report buffer, the campaign list and the
# mode-line count.
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

out=$(emacs --batch -Q -L "$BW_SRCDIR/plugins/emacs" --eval "(require (quote bouncewatch))" --eval "
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
bw_expect_eq "report buffer mode" "$(get mode)" bouncewatch-report-mode
bw_expect_eq "report shown" "$(get report)" yes
bw_expect_eq "campaign listed" "$(get campaign)" yes
bw_expect_eq "mode-line count" "$(get modeline)" " BW:$want"
bw_expect_eq "indicator in the mode line" "$(get global)" yes
bw_done
