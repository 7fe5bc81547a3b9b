#!/bin/sh
# docs/screenshots.sh: the README's pictures, taken from the real program.
#
#   docs/screenshots.sh [OUTDIR]      (BW_BIN: the program; default ./bouncewatch)
#   BW_SHOTS_LANG=ja docs/screenshots.sh docs   (Japanese: BW_BIN must be an
#       installed program, so that it finds its catalogue; needs a CJK font
#       such as fonts-vlgothic; writes notification-ja.png and report-ja.png)
#
# Needs Xvfb, dunst and xterm (apt-get install xvfb dunst xterm).  Builds the
# demo mailbox (a spoofing flood under way at a fixed "now"), then on a
# private X server and D-Bus session:
#   notification.png  dunst showing the alert of `bouncewatch hook post-new`
#   report.png        xterm showing `bouncewatch scan`
# Xvfb's -fbdir keeps its screen as an XWD file; tiny Python (stdlib only)
# crops it and writes PNG, so no screenshot tool is needed.
set -eu
out=$(cd "${1:-docs}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${BW_BIN:-$(pwd)/bouncewatch}
for t in Xvfb dunst xterm notmuch python3 dbus-run-session; do
    command -v "$t" >/dev/null || { echo "screenshots: $t is needed" >&2; exit 1; }
done
if [ "${BW_SHOTS_INNER:-}" != 1 ]; then
    BW_SHOTS_INNER=1 BW_BIN="$bin" exec dbus-run-session -- sh "$0" "$out"
fi
lang=${BW_SHOTS_LANG:-}
suffix=""
if [ -n "$lang" ]; then
    suffix="-$lang"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-shots.XXXXXX")
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache" \
       XDG_CONFIG_HOME="$tmp/config" NOTMUCH_CONFIG="$tmp/notmuch-config" \
       BOUNCEWATCH_NOW=2026-11-20T14:30:00+00:00 TZ=UTC LC_ALL=C.UTF-8 LANGUAGE=$lang
mkdir -p "$HOME" "$tmp/fb" "$XDG_CONFIG_HOME/dunst"
mail="$tmp/mail"
printf '[database]\npath=%s\n[user]\nprimary_email=alex@example.org\n' "$mail" >"$NOTMUCH_CONFIG"
python3 "$here/contrib/demo/build-mailbox.py" "$mail" --base --flood 60 \
    --spread-minutes 50 --now "$BOUNCEWATCH_NOW"
notmuch new --quiet --no-hooks

display=:$((50 + $$ % 40))
Xvfb "$display" -screen 0 1000x760x24 -fbdir "$tmp/fb" -nolisten tcp >/dev/null 2>&1 &
pids="$pids $!"
export DISPLAY="$display"
sleep 1
cat >"$XDG_CONFIG_HOME/dunst/dunstrc" <<'EOF'
[global]
    font = DejaVu Sans 10
    width = 460
    height = 300
    origin = top-right
    offset = 20x20
    padding = 12
    horizontal_padding = 14
    frame_width = 2
    markup = full
    format = "<b>%s</b>\n%b"
    word_wrap = yes
    icon_position = off
    corner_radius = 6
[urgency_normal]
    background = "#2e3440"
    foreground = "#eceff4"
    frame_color = "#88c0d0"
    timeout = 0
[urgency_critical]
    background = "#3b2228"
    foreground = "#fbeff1"
    frame_color = "#e06c75"
    timeout = 0
EOF
dunst -config "$XDG_CONFIG_HOME/dunst/dunstrc" >/dev/null 2>&1 &
pids="$pids $!"
sleep 1
"$BW_BIN" hook post-new
sleep 1.5

shot() {  # shot NAME X Y W H: crop the X screen into $out/NAME.png
    python3 - "$tmp/fb/Xvfb_screen0" "$out/$1$suffix.png" "$2" "$3" "$4" "$5" <<'EOF'
import struct, sys, zlib
src, dst, x0, y0, w, h = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
data = open(src, "rb").read()
f = struct.unpack(">25I", data[:100])
header_size, width, height, byte_order = f[0], f[4], f[5], f[7]
bpp, bpl, ncolors = f[11], f[12], f[19]
masks = f[14:17]
if bpp != 32:
    sys.exit("screenshots: expected a 32-bit screen")
off = header_size + ncolors * 12
shift = [(m & -m).bit_length() - 1 for m in masks]
fmt = "<I" if byte_order == 0 else ">I"
rows = []
for y in range(y0, min(y0 + h, height)):
    row = bytearray(b"\0")
    base = off + y * bpl
    for x in range(x0, min(x0 + w, width)):
        p = struct.unpack_from(fmt, data, base + 4 * x)[0]
        row += bytes(((p & m) >> s) & 0xFF for m, s in zip(masks, shift))
    rows.append(bytes(row))
W, H = min(w, width - x0), len(rows)
def chunk(t, d):
    c = t + d
    return struct.pack(">I", len(d)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
open(dst, "wb").write(png)
EOF
}
shot notification 500 0 500 190

# The report in a terminal: dunst's notification closed first.
kill $(echo $pids | awk '{print $2}') 2>/dev/null || true
xterm -geometry 110x46+0+0 -fa 'DejaVu Sans Mono' -fd 'VL Gothic' -fs 9 -bg '#1e1e1e' -fg '#dcdcdc' \
      -e sh -c "'$BW_BIN' scan; sleep 30" &
pids="$pids $!"
sleep 3
shot report 0 0 885 560
echo "screenshots: wrote $out/notification$suffix.png and $out/report$suffix.png"
