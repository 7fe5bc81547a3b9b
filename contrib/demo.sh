#!/bin/sh
# contrib/demo.sh: try bouncewatch on a small demo mailbox (`make demo`).
#
# Builds Alex Morgan's mailbox in a temporary directory (ordinary and sent
# mail, two legitimate bounces, and a spoofing flood that is arriving right
# now), indexes it with notmuch under a temporary NOTMUCH_CONFIG, prints the
# scan report and, when a desktop session is there, runs the post-new hook so
# the notification appears.  Nothing outside the temporary directory is
# read or written: your own mail, notmuch config and bouncewatch state are
# left alone.
#
#   contrib/demo.sh [--keep]      (BW_BIN: the bouncewatch binary to use)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${BW_BIN:-}
if [ -z "$bin" ]; then
    if [ -x ./bouncewatch ]; then bin=$(pwd)/bouncewatch
    else bin=$(command -v bouncewatch || true); fi
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "demo: build bouncewatch first (make), or set BW_BIN" >&2
    exit 1
fi
for tool in notmuch python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "demo: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done

keep=no
[ "${1:-}" = "--keep" ] && keep=yes
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bouncewatch-demo.XXXXXX")
if [ "$keep" = no ]; then
    trap 'rm -rf "$tmp"' EXIT INT TERM
fi

# The user's own notmuch configuration, before the demo's replaces it: read
# (never written) at the end, to say what is left to set.
user_config_set=${NOTMUCH_CONFIG+yes}
user_config=${NOTMUCH_CONFIG-}

mail="$tmp/mail"
export NOTMUCH_CONFIG="$tmp/notmuch-config"
export XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache"
unset NOTMUCH_PROFILE NOTMUCH_DATABASE 2>/dev/null || true
cat > "$NOTMUCH_CONFIG" <<EOF
[database]
path=$mail
[user]
name=Alex Morgan
primary_email=alex@example.org
[new]
tags=inbox;unread
[index]
header.AutoSubmitted=Auto-Submitted
EOF

echo "== Building the demo mailbox of alex@example.org in $tmp"
python3 "$here/demo/build-mailbox.py" "$mail" --base --flood 60
notmuch new --quiet --no-hooks
echo "   $(notmuch count '*') messages indexed."

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    echo "== Running the notmuch post-new hook: watch for the desktop notification"
    "$bin" hook post-new
else
    echo "== No desktop session: the hook would log its alert like this:"
    mkdir -p "$tmp/no-runtime"
    env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY XDG_RUNTIME_DIR="$tmp/no-runtime" "$bin" hook post-new
fi

echo
echo "== bouncewatch scan"
"$bin" scan || true

echo
echo "== Tags written by the hook"
for t in bounce backscatter; do
    printf '   tag:%-12s %s\n' "$t" "$(notmuch count tag:$t)"
done
if [ "$keep" = yes ]; then
    echo
    echo "The demo mailbox stays in $tmp; try:"
    echo "   NOTMUCH_CONFIG=$NOTMUCH_CONFIG XDG_DATA_HOME=$XDG_DATA_HOME $bin scan --json"
fi

# How to protect the user's own mail: the two or three commands, as they
# apply here.
if [ "$user_config_set" = yes ]; then
    own=$(NOTMUCH_CONFIG=$user_config notmuch config get user.primary_email 2>/dev/null || true)
else
    own=$(env -u NOTMUCH_CONFIG notmuch config get user.primary_email 2>/dev/null || true)
fi
case $own in
    ""|*@localhost|*@localhost.*|*@*.localdomain|*"(none)"*) own_missing=yes ;;
    *@*.*) own_missing=no ;;
    *) own_missing=yes ;;
esac
installed=$(command -v bouncewatch 2>/dev/null || true)
echo
echo "== Protect your own mail (bouncewatch doctor checks every step):"
if [ -z "$installed" ]; then
    echo "   sudo make install"
fi
if [ "$own_missing" = yes ]; then
    echo "   notmuch config set user.primary_email you@example.org     (your own address)"
fi
echo "   bouncewatch setup"
echo "   bouncewatch doctor"

