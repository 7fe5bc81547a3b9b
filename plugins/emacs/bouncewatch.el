;;; bouncewatch.el --- bouncewatch in notmuch-emacs  -*- lexical-binding: t; -*-

;; Keywords: mail, notmuch
;; Package-Requires: ((emacs "27.1"))

;;; Commentary:

;; Backscatter (bounces, auto-replies and complaints about mail you never
;; sent) found by bouncewatch, inside notmuch-emacs:
;;
;;  - saved searches "backscatter" and "bounces" on notmuch-hello;
;;  - M-x bouncewatch-report: the report of `bouncewatch scan' in a buffer
;;    (g refreshes, c lists the campaigns, RET on a campaign searches it);
;;  - bouncewatch-mode-line-mode: "BW:N" in the mode line while N unread
;;    backscatter reports wait.
;;
;; It only runs the bouncewatch and notmuch programs; text from the mail is
;; shown as plain text, never evaluated or followed.
;;
;;   (add-to-list 'load-path "/usr/share/bouncewatch/emacs")
;;   (require 'bouncewatch)
;;   (bouncewatch-mode-line-mode 1)

;;; Code:

(require 'json)
(require 'cl-lib)

(defgroup bouncewatch nil
  "Backscatter found by bouncewatch."
  :group 'mail)

(defcustom bouncewatch-program "bouncewatch"
  "The bouncewatch program."
  :type 'string)

(defcustom bouncewatch-notmuch-program "notmuch"
  "The notmuch program, used for the mode-line count."
  :type 'string)

(defcustom bouncewatch-mode-line-interval 300
  "Seconds between two updates of the mode-line indicator."
  :type 'integer)

(defcustom bouncewatch-saved-searches
  '((:name "backscatter" :query "tag:backscatter" :key "B")
    (:name "bounces" :query "tag:bounce and not tag:backscatter"))
  "Saved searches added to `notmuch-saved-searches'."
  :type '(repeat plist))

(defconst bouncewatch-report-buffer "*bouncewatch*")

(defconst bouncewatch-format-version 1
  "The version of bouncewatch's JSON output this file reads.
It is passed as --format-version; see bouncewatch-json(7).")

;;;; Saved searches

(defun bouncewatch-add-saved-searches ()
  "Add `bouncewatch-saved-searches' to `notmuch-saved-searches'."
  (when (boundp 'notmuch-saved-searches)
    (dolist (s bouncewatch-saved-searches)
      (unless (cl-find (plist-get s :query) notmuch-saved-searches
                       :key (lambda (x) (and (listp x) (plist-get x :query)))
                       :test #'equal)
        (add-to-list 'notmuch-saved-searches s t)))))

(with-eval-after-load 'notmuch-hello (bouncewatch-add-saved-searches))
(with-eval-after-load 'notmuch (bouncewatch-add-saved-searches))

;;;; The report

(defvar bouncewatch-report-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "g") #'bouncewatch-report)
    (define-key map (kbd "c") #'bouncewatch-campaigns)
    (define-key map (kbd "RET") #'bouncewatch-search-campaign-at-point)
    map)
  "Keys of the bouncewatch report buffer.")

(define-derived-mode bouncewatch-report-mode special-mode "bouncewatch"
  "The report of `bouncewatch scan'.
\\{bouncewatch-report-mode-map}")

(defun bouncewatch--run (&rest args)
  "Run bouncewatch with ARGS; return (EXIT-CODE . OUTPUT)."
  (with-temp-buffer
    (let ((code (apply #'call-process bouncewatch-program nil
                       (list t nil) nil args)))
      (cons code (buffer-string)))))

;;;###autoload
(defun bouncewatch-report ()
  "Show the report of `bouncewatch scan' in a buffer."
  (interactive)
  (let* ((res (bouncewatch--run "scan" "--quiet"))
         (buf (get-buffer-create bouncewatch-report-buffer)))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        ;; Plain text: the report quotes forged subjects.
        (insert (cdr res))
        (unless (eq (car res) 0)
          (insert (format "\n[bouncewatch exited with status %s]\n" (car res))))
        (goto-char (point-min)))
      (bouncewatch-report-mode))
    (when (called-interactively-p 'any)
      (pop-to-buffer buf))
    buf))

(defun bouncewatch--json (&rest args)
  "Run bouncewatch with ARGS and --json; return the document as alists.
Asks for `bouncewatch-format-version'; when bouncewatch cannot write
it (exit 20 or 21), says which side to upgrade.  nil on other failures."
  (let ((res (apply #'bouncewatch--run
                    (append args (list "--json" (format "--format-version=%d"
                                                        bouncewatch-format-version))))))
    (pcase (car res)
      (0 (let ((json-object-type 'alist) (json-array-type 'list) (json-key-type 'symbol))
           (ignore-errors (json-read-from-string (cdr res)))))
      (20 (user-error "bouncewatch no longer writes JSON format version %d: update bouncewatch.el"
                      bouncewatch-format-version))
      (21 (user-error "bouncewatch is older than bouncewatch.el (it does not know JSON format version %d): upgrade bouncewatch"
                      bouncewatch-format-version))
      (_ nil))))

(defun bouncewatch--campaigns ()
  "The campaigns of `bouncewatch scan --json', as a list of alists."
  (alist-get 'campaigns (bouncewatch--json "scan" "--quiet")))

;;;###autoload
(defun bouncewatch-campaigns ()
  "List the spoofing campaigns; RET on one searches its reports."
  (interactive)
  (let ((buf (get-buffer-create "*bouncewatch campaigns*"))
        (campaigns (bouncewatch--campaigns)))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (format "%-12s %6s  %s\n" "campaign" "size" "subject"))
        (dolist (c campaigns)
          (let ((id (alist-get 'id c)))
            (when (and (stringp id) (string-match-p "\\`bw-[0-9a-f]\\{8\\}\\'" id))
              (insert (propertize (format "%-12s %6s  %s\n" id (alist-get 'size c)
                                          (or (car (alist-get 'subjects c)) ""))
                                  'bouncewatch-campaign id)))))
        (goto-char (point-min)))
      (bouncewatch-report-mode))
    (when (called-interactively-p 'any)
      (pop-to-buffer buf))
    buf))

(defun bouncewatch-search-campaign-at-point ()
  "Search the reports of the campaign on this line with notmuch."
  (interactive)
  (let ((id (get-text-property (point) 'bouncewatch-campaign)))
    (if (and id (fboundp 'notmuch-search))
        (notmuch-search (concat "tag:bw/" id))
      (message "No campaign on this line (or notmuch-emacs not loaded)"))))

;;;; Mode line

(defvar bouncewatch--mode-line-string ""
  "What the mode line shows: \"BW:N\" or nothing.")
(put 'bouncewatch--mode-line-string 'risky-local-variable t)

(defvar bouncewatch--timer nil)

(defun bouncewatch--set-count (count)
  "Show COUNT unread backscatter reports in the mode line."
  (setq bouncewatch--mode-line-string
        (if (and (integerp count) (> count 0))
            (propertize (format " BW:%d" count)
                        'face 'warning
                        'help-echo "Unread backscatter: M-x bouncewatch-report")
          ""))
  (force-mode-line-update t))

(defun bouncewatch-update-mode-line ()
  "Count the unread backscatter with notmuch, without blocking Emacs."
  (interactive)
  (let ((out (generate-new-buffer " *bouncewatch-count*")))
    (make-process
     :name "bouncewatch-count" :buffer out :noquery t
     :command (list bouncewatch-notmuch-program "count" "tag:backscatter and tag:unread")
     :sentinel (lambda (proc _event)
                 (when (memq (process-status proc) '(exit signal))
                   (let ((n (with-current-buffer out
                              (string-to-number (buffer-string)))))
                     (kill-buffer out)
                     (bouncewatch--set-count
                      (if (eq (process-exit-status proc) 0) n 0))))))))

;;;###autoload
(define-minor-mode bouncewatch-mode-line-mode
  "Show the number of unread backscatter reports in the mode line."
  :global t
  (when bouncewatch--timer
    (cancel-timer bouncewatch--timer)
    (setq bouncewatch--timer nil))
  (if bouncewatch-mode-line-mode
      (progn
        ;; A mode-line list that starts with a symbol is a conditional
        ;; (SYMBOL THEN ELSE): alone in an empty global-mode-string, the
        ;; indicator showed as "*invalid*".  Start the list with a string.
        (unless global-mode-string
          (setq global-mode-string (list "")))
        (add-to-list 'global-mode-string 'bouncewatch--mode-line-string t)
        (setq bouncewatch--timer
              (run-at-time 0 bouncewatch-mode-line-interval
                           #'bouncewatch-update-mode-line)))
    (setq global-mode-string (delq 'bouncewatch--mode-line-string global-mode-string))
    (setq bouncewatch--mode-line-string "")))

(provide 'bouncewatch)
;;; bouncewatch.el ends here
