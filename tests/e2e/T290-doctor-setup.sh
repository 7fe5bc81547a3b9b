#!/bin/sh
# T290-doctor-setup: protection that cannot be off without anyone knowing
# (issue 11 item 2), in a throwaway HOME:
#  - doctor finds each problem of a fresh mailbox (no address, no hook
#    directory, no agent, no session bus, no scan) and exits 1;
#  - setup --dry-run changes nothing; setup installs the hook in notmuch's
#    real hook directory (creating it) and the agent's autostart entry, says
#    the command for the address and exits 1 until that is done; run again
#    it changes nothing; then doctor is happy (exit 0) in a desktop session;
#  - a hook whose bouncewatch is gone says so loudly (and exits 0);
#  - a post-new hook of the user's is never replaced: setup shows it and
#    adds one line with --yes only, leaves scripts where that cannot work;
#  - with a systemd user manager, setup writes and enables the user unit;
#  - notmuch's own hook directory (XDG, database.hook_dir) is the one used.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
unset EMAIL NOTMUCH_CONFIG DBUS_SESSION_BUS_ADDRESS
export LC_ALL=C LANGUAGE=
# No system-wide autostart entry of the machine running the test counts.
export XDG_CONFIG_DIRS="$BW_TMP/xdg"
mkdir -p "$XDG_CONFIG_DIRS"

# The program as installed: on PATH, under bin/.  systemctl: absent (a
# stub that fails like one without a user manager) unless a test swaps in
# the fake manager below.
mkdir -p "$BW_TMP/bin" "$BW_TMP/nosystemd"
# a copy, not a link: setup writes the program's own path (/proc/self/exe)
cp "$BW_BIN" "$BW_TMP/bin/bouncewatch"
# ... with the build's engine module (installed, it is in $(pkglibdir))
export BOUNCEWATCH_ENGINE="$BW_BUILDDIR/.libs/bouncewatch-engine.so"
printf '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n' \
    >"$BW_TMP/nosystemd/systemctl"
chmod +x "$BW_TMP/nosystemd/systemctl"
export PATH="$BW_TMP/nosystemd:$BW_TMP/bin:$PATH"
bw=$BW_TMP/bin/bouncewatch

# A mailbox with sent mail, no user.primary_email, no hook directory.
mail="$HOME/mail"
python3 "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --now "$BOUNCEWATCH_NOW" >/dev/null
printf '[database]\npath=%s\n[user]\nname=Alex\n[new]\ntags=unread;inbox\n' "$mail" >"$HOME/.notmuch-config"
notmuch new --quiet
hookdir=$mail/.notmuch/hooks
[ ! -e "$hookdir" ] || bw_expect_eq "fixture: no hook directory" exists absent

run() {  # run NAME WANT_RC COMMAND...: stdout+stderr in $BW_TMP/out
    name=$1 want=$2
    shift 2
    rc=0
    "$@" >"$BW_TMP/out" 2>&1 || rc=$?
    bw_expect_eq "$name: exit status" "$rc" "$want"
}
line() {  # line NAME STATUS TEXT: a line of the output starts with STATUS and holds TEXT
    if ! grep "^$2 " "$BW_TMP/out" | grep -qF -- "$3"; then
        echo "FAIL: $1: no '$2 ... $3' line in:"
        sed 's/^/  | /' "$BW_TMP/out"
        bw_fail_count=$((bw_fail_count + 1))
    fi
}
says() {  # says NAME TEXT
    grep -qF -- "$2" "$BW_TMP/out" || { echo "FAIL: $1: no '$2' in:"; sed 's/^/  | /' "$BW_TMP/out"
                                         bw_fail_count=$((bw_fail_count + 1)); }
}
snapshot() {  # every file under HOME with its checksum and mode
    (cd "$HOME" && find . -path ./.cache -prune -o -type f -print | sort |
        while read -r f; do printf '%s %s %s\n' "$(stat -c %a "$f")" "$(md5sum <"$f" | cut -c1-32)" "$f"; done)
}

# ---------------------------------------------------------------- doctor, fresh
run "doctor on a fresh mailbox" 1 "$bw" doctor
line "doctor: the configuration" OK "notmuch configuration: $HOME/.notmuch-config"
line "doctor: the database" OK "notmuch database: $mail"
line "doctor: counted the quick way" OK "counted and listed by reading notmuch's Xapian index directly"
line "doctor: writers tolerated" OK "a scan does not start over when another program"
line "doctor: the address" PROBLEM "user.primary_email is unset"
line "doctor: ... its fix, offering the sent mail's address" PROBLEM "notmuch config set user.primary_email alex@example.org"
line "doctor: no hook" PROBLEM "no post-new hook in $hookdir"
line "doctor: ... whose directory is missing" PROBLEM "which does not exist"
line "doctor: no agent" PROBLEM "the desktop agent does not run"
line "doctor: no session bus" PROBLEM "no D-Bus session bus"
line "doctor: the state directory" OK "is writable"
line "doctor: no scan yet" PROBLEM "no successful scan yet"
says "doctor: the count" "5 problems found"
bw_expect_eq "doctor writes nothing" "$(find "$HOME/.local/share" -name 'state*' | wc -l)" 0

# ---------------------------------------------------------------- setup
before=$(snapshot)
run "setup --dry-run" 0 "$bw" setup --dry-run </dev/null
says "dry run: the hook it would install" "would install $hookdir/post-new"
says "dry run: the agent" "would write $XDG_CONFIG_HOME/autostart/bouncewatch.desktop"
bw_expect_eq "dry run: nothing changed" "$(snapshot)" "$before"
[ ! -e "$hookdir" ] || bw_expect_eq "dry run: no hook directory made" exists absent

run "setup" 1 "$bw" setup </dev/null
says "setup: installs the hook" "installing $hookdir/post-new"
says "setup: ... creating its directory" "creating its directory"
says "setup: the agent's autostart entry" "writing $XDG_CONFIG_HOME/autostart/bouncewatch.desktop"
says "setup: the address is left to the user" "notmuch config set user.primary_email alex@example.org"
says "setup: ... listed as still to do" "Still to do by you"
[ -x "$hookdir/post-new" ] || bw_expect_eq "the hook is executable" no yes
bw_expect_eq "the hook runs this bouncewatch" "$(grep -c "^BOUNCEWATCH=$BW_TMP/bin/bouncewatch\$" "$hookdir/post-new" 2>/dev/null)" 1
bw_expect_eq "autostart entry runs it" \
    "$(grep -c "^Exec=$BW_TMP/bin/bouncewatch watch\$" "$XDG_CONFIG_HOME/autostart/bouncewatch.desktop" 2>/dev/null)" 1
bw_expect_eq "notmuch runs hooks from there" "$(notmuch config get database.hook_dir)" "$hookdir"
# notmuch runs it: without the address it logs why nothing is checked.
rc=0
notmuch new >"$BW_TMP/new.out" 2>&1 || rc=$?
bw_expect_eq "notmuch new with the hook: exit status" "$rc" 0
grep -q "bouncewatch hook: not configured" "$BW_TMP/new.out" ||
    bw_expect_eq "notmuch new shows the hook's message" "$(cat "$BW_TMP/new.out")" "...not configured..."

notmuch config set user.primary_email alex@example.org
notmuch new --quiet 2>"$BW_TMP/new.err" || bw_expect_eq "notmuch new" failed ok
bw_expect_eq "the hook is quiet once configured" "$(cat "$BW_TMP/new.err")" ""
before=$(snapshot)
run "setup again" 0 "$bw" setup </dev/null
says "setup again: the hook is in place" "already installed: $hookdir/post-new runs $BW_TMP/bin/bouncewatch"
says "setup again: the agent too" "already set to start with your desktop session"
bw_expect_eq "setup again changes nothing" "$(snapshot | grep -v 'last-scan')" "$(printf '%s\n' "$before" | grep -v 'last-scan')"

run "doctor without a desktop session" 1 "$bw" doctor
line "doctor: the address now" OK "your addresses (user.primary_email, user.other_email): alex@example.org"
line "doctor: the hook now" OK "post-new hook $hookdir/post-new runs $BW_TMP/bin/bouncewatch"
line "doctor: the agent starts with the session" OK "bouncewatch.desktop starts it with your desktop session"
line "doctor: the last scan" OK "last successful scan:"
says "doctor: only the bus is missing" "1 problem found"
# The module that shows notifications (libnotify's) cannot be loaded: said,
# with what to do (and nothing when it can: "1 problem" above).
run "doctor without the notification module" 1 \
    env BOUNCEWATCH_NOTIFY_MODULE="$BW_TMP/no-such/bouncewatch-notify.so" "$bw" doctor
line "doctor: the notification module" PROBLEM \
    "the notification module $BW_TMP/no-such/bouncewatch-notify.so cannot be loaded ("
says "doctor: ... what to do" "alerts only go to the log. Fix: reinstall bouncewatch"
says "doctor: the bus and the module" "2 problems found"

# In a desktop session: the agent runs, a notification server answers.
PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import dbusmock, dbus' 2>/dev/null; then PY=$p; break; fi
done
if [ -n "$PY" ] && command -v dbus-run-session >/dev/null 2>&1; then
    cat >"$BW_TMP/session.sh" <<'EOF'
"$PY" -m dbusmock --template notification_daemon >/dev/null 2>&1 &
mock=$!
"$PY" "$BW_SRCDIR/tests/e2e/notify-mock.py" wait-name org.freedesktop.Notifications 10
"$BW_BIN" watch --poll=0 >/dev/null 2>&1 &
agent=$!
"$PY" "$BW_SRCDIR/tests/e2e/notify-mock.py" wait-name org.bouncewatch.Agent 10
rc=0
"$BW_BIN" doctor || rc=$?
echo "rc=$rc"
kill $agent $mock
wait $agent 2>/dev/null
EOF
    BW_TMP=$BW_TMP PY=$PY dbus-run-session -- sh "$BW_TMP/session.sh" >"$BW_TMP/out" 2>/dev/null
    says "doctor in a desktop session: all is well" "All is well"
    says "doctor in a desktop session: exit 0" "rc=0"
    line "doctor: the agent runs" OK "the desktop agent runs (org.bouncewatch.Agent"
    line "doctor: the notification server" OK "notification server:"
else
    echo "# dbus-run-session or python3-dbusmock missing: the desktop-session part is skipped"
fi

# ---------------------------------------------------------------- a hook whose bouncewatch is gone
sed "s|^BOUNCEWATCH=.*|BOUNCEWATCH=$BW_TMP/gone/bouncewatch|" "$hookdir/post-new" >"$BW_TMP/post-new-gone"
chmod +x "$BW_TMP/post-new-gone"
rc=0
env PATH=/usr/bin:/bin "$BW_TMP/post-new-gone" >"$BW_TMP/out" 2>&1 || rc=$?
bw_expect_eq "hook without bouncewatch: exit status" "$rc" 0
says "hook without bouncewatch: says so" "bouncewatch is gone, neither where this hook expects it nor on PATH: new mail is NOT checked"
says "hook without bouncewatch: says what to do" "bouncewatch setup"
# The installed plugin file is the same script, with the configure paths.
installed_hook=$BW_BUILDDIR/plugins/notmuch/post-new
if [ -e "$installed_hook" ]; then
    bw_expect_eq "the plugin file is setup's script for the installed program" \
        "$(sed 's|^BOUNCEWATCH=.*||; s|^#   .* hook post-new$||' "$installed_hook" | md5sum)" \
        "$(sed 's|^BOUNCEWATCH=.*||; s|^#   .* hook post-new$||' "$hookdir/post-new" | md5sum)"
fi
cp "$BW_TMP/post-new-gone" "$hookdir/post-new"
run "doctor: the hook's bouncewatch is gone (none on PATH either)" 1 env PATH="$BW_TMP/nosystemd:/usr/bin:/bin" "$BW_BIN" doctor
line "doctor: ... says so" PROBLEM "runs $BW_TMP/gone/bouncewatch, which is missing"
run "setup renews its own hook" 0 env PATH="$BW_TMP/nosystemd:/usr/bin:/bin" "$bw" setup </dev/null
says "setup: renewing" "renewing $hookdir/post-new"
bw_expect_eq "renewed: runs this bouncewatch" "$(grep -c "^BOUNCEWATCH=$BW_TMP/bin/bouncewatch\$" "$hookdir/post-new")" 1

# ---------------------------------------------------------------- a hook of the user's
user_hook='#!/bin/sh
# my own tagging
touch "$HOME/user-hook-ran"
'
rm -f "$hookdir/post-new"
printf '%s' "$user_hook" >"$hookdir/post-new"
chmod 750 "$hookdir/post-new"
sum=$(md5sum <"$hookdir/post-new")
run "setup with a hook of the user's, no terminal" 1 "$bw" setup </dev/null
says "setup: never replaces it" "bouncewatch never replaces it"
says "setup: shows it" '| touch "$HOME/user-hook-ran"'
says "setup: the line to add" "Add this line at the end of your post-new hook $hookdir/post-new: $BW_TMP/bin/bouncewatch hook post-new"
bw_expect_eq "not changed without a yes" "$(md5sum <"$hookdir/post-new")" "$sum"
run "setup --dry-run --yes" 0 "$bw" setup --dry-run --yes </dev/null
bw_expect_eq "not changed by a dry run" "$(md5sum <"$hookdir/post-new")" "$sum"
run "setup --yes" 0 "$bw" setup --yes </dev/null
says "setup --yes: added" "added the line to $hookdir/post-new"
bw_expect_eq "the user's hook is kept, one line added" "$(head -n 3 "$hookdir/post-new")" "$(printf '%s' "$user_hook")"
bw_expect_eq "one line added" "$(wc -l <"$hookdir/post-new" | tr -d ' ')" 4
bw_expect_eq "its mode is kept" "$(stat -c %a "$hookdir/post-new")" 750
grep -q "^$BW_TMP/bin/bouncewatch hook post-new" "$hookdir/post-new" || bw_expect_eq "the added line" no yes
run "setup after the line was added" 0 "$bw" setup </dev/null
says "setup: now in place" "already installed: $hookdir/post-new runs $BW_TMP/bin/bouncewatch"
rm -f "$HOME/user-hook-ran" "$XDG_DATA_HOME/bouncewatch/state.sqlite.last-scan"
notmuch new --quiet 2>"$BW_TMP/new.err" || bw_expect_eq "notmuch new with both" failed ok
[ -e "$HOME/user-hook-ran" ] || bw_expect_eq "notmuch new runs the user's hook" no yes
[ -e "$XDG_DATA_HOME/bouncewatch/state.sqlite.last-scan" ] || bw_expect_eq "... and bouncewatch in it" no yes

for kind in exit python; do
    case $kind in
    exit) printf '#!/bin/sh\nafew --tag --new\nexit 0\n' >"$hookdir/post-new" ;;
    python) printf '#!/usr/bin/env python3\nprint("hello")\n' >"$hookdir/post-new" ;;
    esac
    chmod 755 "$hookdir/post-new"
    sum=$(md5sum <"$hookdir/post-new")
    run "setup --yes, a hook that ends with exit / is python ($kind)" 1 "$bw" setup --yes </dev/null
    bw_expect_eq "$kind: not changed" "$(md5sum <"$hookdir/post-new")" "$sum"
    says "$kind: the line to add" "run this line after notmuch new has indexed the mail: $BW_TMP/bin/bouncewatch hook post-new"
done
rm -f "$hookdir/post-new"

# ---------------------------------------------------------------- notmuch's hook directory
# The XDG one, once it exists, is where notmuch looks: setup uses it.
xdghooks="$XDG_CONFIG_HOME/notmuch/default/hooks"
mkdir -p "$xdghooks"
run "setup with an XDG hook directory" 0 "$bw" setup </dev/null
[ -x "$xdghooks/post-new" ] || bw_expect_eq "hook in the XDG directory" no yes
[ ! -e "$hookdir/post-new" ] || bw_expect_eq "no hook where notmuch does not look" exists absent
rm -rf "$xdghooks"
# database.hook_dir, not there yet: created.
notmuch config set database.hook_dir "$HOME/my hooks"
run "setup with database.hook_dir" 0 "$bw" setup </dev/null
[ -x "$HOME/my hooks/post-new" ] || bw_expect_eq "hook in database.hook_dir" no yes
run "doctor with database.hook_dir" 1 "$bw" doctor
line "doctor: the hook in database.hook_dir" OK "post-new hook $HOME/my hooks/post-new runs"
notmuch config set database.hook_dir

# ---------------------------------------------------------------- a systemd user manager
rm -f "$XDG_CONFIG_HOME/autostart/bouncewatch.desktop"
mkdir -p "$BW_TMP/systemd"
cat >"$BW_TMP/systemd/systemctl" <<EOF
#!/bin/sh
# A user manager that knows units in \$XDG_CONFIG_HOME/systemd/user only.
echo "\$*" >>"$BW_TMP/systemctl.log"
unit="\$XDG_CONFIG_HOME/systemd/user/bouncewatch.service"
case "\$*" in
"--user show-environment") exit 0 ;;
"--user cat bouncewatch.service") [ -e "\$unit" ] ;;
"--user is-enabled bouncewatch.service")
    if [ -e "$BW_TMP/enabled" ]; then echo enabled; exit 0; fi; echo disabled; exit 1 ;;
"--user daemon-reload") exit 0 ;;
"--user enable --now bouncewatch.service") [ -e "\$unit" ] && touch "$BW_TMP/enabled" ;;
*) exit 1 ;;
esac
EOF
chmod +x "$BW_TMP/systemd/systemctl"
run "setup with systemd" 0 env PATH="$BW_TMP/systemd:$BW_TMP/bin:$PATH" "$bw" setup </dev/null
says "systemd: writes the user unit" "writing the systemd user unit $XDG_CONFIG_HOME/systemd/user/bouncewatch.service"
says "systemd: enables it" "running: systemctl --user enable --now bouncewatch.service"
bw_expect_eq "systemd: the unit runs this bouncewatch" \
    "$(grep -c "^ExecStart=$BW_TMP/bin/bouncewatch watch\$" "$XDG_CONFIG_HOME/systemd/user/bouncewatch.service")" 1
bw_expect_eq "systemd: what setup asked" "$(grep -c 'daemon-reload\|enable --now' "$BW_TMP/systemctl.log")" 2
[ ! -e "$XDG_CONFIG_HOME/autostart/bouncewatch.desktop" ] || bw_expect_eq "systemd: no autostart entry" exists absent
run "doctor with systemd" 1 env PATH="$BW_TMP/systemd:$BW_TMP/bin:$PATH" "$bw" doctor
line "doctor: the unit is enabled" OK "its systemd user unit is enabled"
run "setup with systemd, again" 0 env PATH="$BW_TMP/systemd:$BW_TMP/bin:$PATH" "$bw" setup </dev/null
says "systemd again: nothing to do" "already enabled"
bw_expect_eq "systemd again: not enabled twice" "$(grep -c 'enable --now' "$BW_TMP/systemctl.log")" 1

# ---------------------------------------------------------------- the slow way, said
run "doctor without the Xapian handle" 1 env BOUNCEWATCH_TEST_XAPIAN=off "$bw" doctor
line "doctor: counted through libnotmuch" OK "counted and listed through libnotmuch"
run "doctor without the reopen proof" 1 env BOUNCEWATCH_TEST_REOPEN_PROOF=off "$bw" doctor
line "doctor: writers make a scan start over" OK "a scan starts over when another program writes"

# ---------------------------------------------------------------- Japanese
if bw_ja_setup; then
    run "doctor in Japanese" 1 env LC_ALL=ja_JP.UTF-8 LANGUAGE=ja "$bw" doctor
    says "ja: a line" "問題あり"
    says "ja: the summary" "件の問題"
    says "ja: counted the quick way" "Xapian 索引を直接"
    says "ja: writers tolerated" "スキャンはやり直しになりません"
    if grep -q "PROBLEM\|problem found\|desktop agent" "$BW_TMP/out"; then
        bw_expect_eq "ja: nothing left in English" "$(grep "PROBLEM\|problem found\|desktop agent" "$BW_TMP/out")" "(none)"
    fi
    unset LOCPATH BOUNCEWATCH_LOCALEDIR
fi
bw_done
