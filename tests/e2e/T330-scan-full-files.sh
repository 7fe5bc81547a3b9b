#!/bin/sh
# T330-scan-full-files: a full scan reads the received mail file by file
# (notmuch's directory documents name every file), and asks notmuch about a
# file only when the reader found something in it.  What it keeps must be
# what a list of the messages gives: one read per message, of the file
# notmuch names first, never the owner's mail.  A quiet takeover
# (tests/fixtures/make-takeover-mailbox.py) plus:
#   - two imitations each stored twice under one Message-ID, the phishing
#     text in one copy and ordinary text in the other, one pair each way
#     round: each is phishing exactly when notmuch's first file is the
#     phishing copy, and the evidence names that file;
#   - a genuine notice stored twice (same text): one signal, named by the
#     first file;
#   - a folder nested three deep and a file at the top of the database.
# The walk is seen at work in the test reader's trace: a message's second
# copy is read too (a list of the messages never reads it), also when the
# database lives apart from the mail (database.mail_root), where the same
# document comes out.  And the full scan equals the scan of the same mail
# with the state of a previous run (scan --full, rows and skips stored).
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
export XDG_DATA_HOME="$BW_TMP/data"
MAKE="$BW_SRCDIR/tests/fixtures/make-takeover-mailbox.py"
eval "$(python3 "$MAKE" x --print-times)"   # before, hijack_end, now
python3 "$MAKE" "$BW_TMP/mail"
python3 - "$BW_TMP/mail" <<'PY'
import glob, os, sys
root = sys.argv[1]
def find(needle):
    for p in glob.glob(os.path.join(root, "*", "cur", "*")):
        with open(p, encoding="utf-8") as f:
            if needle in f.read():
                return p
    raise SystemExit("no message with " + needle)
def put(folder, name, text):
    d = os.path.join(root, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w", encoding="utf-8") as f:
        f.write(text)
phish = open(find("<phish-1@"), encoding="utf-8").read()
head, body = phish.split("\n\n", 1)
ordinary = (head.replace("Unusual sign-in activity - verify your account", "Your order")
            + "\n\nThanks for your order, it ships on Monday.\n")
for n, (a, b) in ((2, (phish, ordinary)), (3, (ordinary, phish))):
    put("Archive/cur", "dup-%d-a:2,S" % n, a.replace("phish-1@", "phish-%d@" % n))
    put("Lists/2026/deep/cur", "dup-%d-b:2,S" % n, b.replace("phish-1@", "phish-%d@" % n))
signin = open(find("<signin-t1@"), encoding="utf-8").read()
put("Archive/cur", "signin-copy:2,S", signin)
put("", "top-level-phish", phish.replace("phish-1@", "phish-4@"))
PY
bw_notmuch_setup "$BW_TMP/mail" jonas.weber@mailhost.example
export BOUNCEWATCH_NOW=$now

if [ -n "${BW_READER_TEST:-}" ] && [ -x "$BW_READER_TEST" ]; then
    export BOUNCEWATCH_READER="$BW_READER_TEST" BW_TEST_READER_TRACE=1
fi
scan() {
    rc=0
    DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent "$BW_BIN" scan --json "$@" >"$out" 2>"$BW_TMP/err" || rc=$?
}
# the walk read the second copy of a message (the list reads first files only)
second_copy_read() {
    if [ -z "${BW_TEST_READER_TRACE:-}" ]; then echo yes; return; fi   # no trace to look at
    grep -q 'bw-test-trace: reading .*/deep/cur/dup-2-b:2,S (facts)' "$BW_TMP/err" && echo yes || echo no
}
out="$BW_TMP/full.json"
scan
bw_expect_eq "full scan exit" "$rc" 0
bw_expect_eq "the full scan walked the files" "$(second_copy_read)" yes

# notmuch's first file of a message (the one a list of the messages reads)
first_file() { notmuch search --exclude=false --output=files "id:$1" | head -n 1; }
phish_file() {  # ID: the file the document names for this imitation, or "none"
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
f = [p["file"] for p in d["phishing"] if p["message_id"] == sys.argv[2]]
print(f[0] if f else "none")' "$out" "$1"
}
for n in 1 2 3 4; do
    id="phish-$n@mailhost-secure.example"
    first=$(first_file "$id")
    [ -n "$first" ] || bw_expect_eq "phish-$n indexed" "" "a file"
    if grep -q "will be suspended" "$first"; then want=$first; else want=none; fi
    bw_expect_eq "phish-$n read from notmuch's first file" "$(phish_file "$id")" "$want"
done
# both ways round: one pair is phishing, the other not (whatever notmuch
# names first, the two pairs cannot both go one way)
n_phish=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(len([p for p in d["phishing"] if p["message_id"] in ("phish-2@mailhost-secure.example", "phish-3@mailhost-secure.example")]))' "$out")
bw_expect_eq "one of the two reversed pairs is phishing" "$n_phish" 1

signin_id="signin-t1@notify.mailhost.example"
got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["signals"] if x.get("message_id") == sys.argv[2]]
print(len(s), s[0]["file"] if s else "")' "$out" "$signin_id")
bw_expect_eq "the notice stored twice is one signal from the first file" "$got" "1 $(first_file "$signin_id")"
kinds=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted({s["kind"] for s in d["signals"]})))' "$out")
bw_expect_eq "signal kinds" "$kinds" \
    "human-reply sending-blocked sent-anomaly sign-in-alert two-factor-changed"

# the database apart from the mail: the mail root names the files
mkdir -p "$BW_TMP/db"
sed -e "s|^path=.*|path=$BW_TMP/db\nmail_root=$BW_TMP/mail|" "$NOTMUCH_CONFIG" >"$BW_TMP/split-config"
main_config=$NOTMUCH_CONFIG
export NOTMUCH_CONFIG="$BW_TMP/split-config"
notmuch new --no-hooks --quiet
out="$BW_TMP/split.json"
XDG_DATA_HOME="$BW_TMP/split-data" scan
bw_expect_eq "split database scan exit" "$rc" 0
bw_expect_eq "the walk starts at the mail root" "$(second_copy_read)" yes
bw_expect_eq "a database apart from the mail gives the same document" \
    "$(bw_json_canon "$BW_TMP/split.json" | sed 's/"revision": [0-9]*,//; s/"database": "[^"]*",//')" \
    "$(bw_json_canon "$BW_TMP/full.json" | sed 's/"revision": [0-9]*,//; s/"database": "[^"]*",//')"
export NOTMUCH_CONFIG="$main_config"

# a full scan over a stored state (scan --full) gives the same document
out="$BW_TMP/again.json"
scan --full
bw_expect_eq "scan --full exit" "$rc" 0
bw_expect_eq "scan --full equals the first full scan" \
    "$(bw_json_canon "$BW_TMP/again.json" | sed 's/"revision": [0-9]*,//')" \
    "$(bw_json_canon "$BW_TMP/full.json" | sed 's/"revision": [0-9]*,//')"

# the database apart from the mail again: a report removed from the mail
# (notmuch's revision does not move) is seen by the directory digest, which
# walks the mail root too, so the next run is not answered from the stale
# snapshot
export NOTMUCH_CONFIG="$BW_TMP/split-config"
gone=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["bounces"][0]["file"])' "$BW_TMP/split.json")
rm -f "$gone"
notmuch new --no-hooks --quiet
XDG_DATA_HOME="$BW_TMP/split-data" "$BW_BIN" scan --json >"$BW_TMP/split-gone.json" 2>/dev/null \
    || bw_expect_eq "split database, scan after a removal" failed ok
XDG_DATA_HOME="$BW_TMP/split-data" "$BW_BIN" scan --json --full >"$BW_TMP/split-gone-full.json" 2>/dev/null \
    || bw_expect_eq "split database, full scan after a removal" failed ok
bw_expect_eq "split database: a removal is seen, as a full scan sees it" \
    "$(bw_json_canon "$BW_TMP/split-gone.json" | sed 's/"revision": [0-9]*,//')" \
    "$(bw_json_canon "$BW_TMP/split-gone-full.json" | sed 's/"revision": [0-9]*,//')"
export NOTMUCH_CONFIG="$main_config"
bw_done
