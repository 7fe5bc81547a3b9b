#!/bin/sh
# T340-scan-removals: an incremental run tells that no message left the
# database from notmuch's directories (the state's table of them, and the
# files of the lastmod range) instead of counting every message; whatever
# arrives, moves or leaves, it gives exactly what a full rescan gives.  The
# cases: mail added (told by the directories: no count), a removal and an
# addition in the same folder, a message moved to another folder, a second
# copy of a message plus a removal elsewhere, a removal in a folder three
# levels down, a whole nested folder removed, mail added in a new nested
# folder, a report's file removed while a file of other bytes under its
# Message-ID remains (ordinary mail, then another report).  Each is followed by an incremental run and compared with a full
# rescan of the same mail (its own state); the runs that must count (a
# removal) are seen to count, a move is told by the directories.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/all" --now "$BOUNCEWATCH_NOW"
mkdir -p "$BW_TMP/mail/INBOX/cur" "$BW_TMP/mail/Lists/2026/deep/cur" "$BW_TMP/held"
cp -r "$BW_TMP/all/Sent" "$BW_TMP/all/Junk" "$BW_TMP/mail/"
# a third of the inbox three levels down, a third held back for later
i=0
for f in "$BW_TMP"/all/INBOX/cur/*; do
    i=$((i + 1))
    case $((i % 3)) in
    0) cp "$f" "$BW_TMP/mail/INBOX/cur/" ;;
    1) cp "$f" "$BW_TMP/mail/Lists/2026/deep/cur/" ;;
    2) cp "$f" "$BW_TMP/held/" ;;
    esac
done
# ordinary mail from a correspondent (no report: moved and copied below)
for n in 1 2 3; do
    cat >"$BW_TMP/mail/INBOX/cur/ham-$n:2,S" <<MAIL
From: Friend <friend@example.net>
To: owner@example.org
Subject: Lunch on Friday ($n)
Date: Mon, 16 Nov 2026 1$n:00:00 +0000
Message-ID: <ham-$n@example.net>

Shall we meet at noon?
MAIL
done
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

same() { bw_same_json "$1" "$2" "$3" revision; }  # equal but for the revision
# step NAME: notmuch new, an incremental run (timing kept in $BW_TMP/NAME.err)
# and a full rescan (scan --full on a copy of the state); they must agree
step() {
    notmuch new --no-hooks --quiet
    BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/$1.json" 2>"$BW_TMP/$1.err" \
        || bw_expect_eq "$1: incremental scan" failed ok
    # on a copy of the state: campaign ids follow the history (T210)
    bw_full_rescan "$1"
    same "$1: incremental == full" "$BW_TMP/$1.json" "$BW_TMP/$1-full.json"
}
told() {  # NAME: how the run knew whether messages were removed
    grep -o 'timing: removals:[a-z]*' "$BW_TMP/$1.err" | sed 's/timing: removals://' | head -1
}
held() { ls "$BW_TMP/held" | sed -n "${1}p"; }
report_file() {  # NAME N: the file of a report, as step NAME's full scan gives it
    python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))["bounces"]
print(b[int(sys.argv[2]) % len(b)]["file"])' "$BW_TMP/$1-full.json" "$2"
}

"$BW_BIN" scan --json >"$BW_TMP/first.json" || bw_expect_eq "first scan" failed ok

# mail arrives: the directories tell that nothing left, no count
mv "$BW_TMP/held/$(held 1)" "$BW_TMP/held/$(held 2)" "$BW_TMP/mail/INBOX/cur/"
step added
bw_expect_eq "added: told by the directories" "$(told added)" dirs

# a removal and an addition in the same folder: the files do not grow by
# the range, the messages are counted
rm -f "$(grep -l . "$BW_TMP"/mail/INBOX/cur/* | head -1)"
mv "$BW_TMP/held/$(held 1)" "$BW_TMP/mail/INBOX/cur/"
step remove-add
bw_expect_eq "removal and addition in one folder: counted" "$(told remove-add)" count

# a message moved to another folder (one file removed, one added, the same
# message): the state's set of known ids knows it for an old one with one
# file, so the folders' sums tell that nothing left (scan-read.c, "known
# ids"), and nothing leaves
mkdir -p "$BW_TMP/mail/Archive/cur"
mv "$BW_TMP/mail/INBOX/cur/ham-1:2,S" "$BW_TMP/mail/Archive/cur/"
step moved
bw_expect_eq "a move: told by the directories" "$(told moved)" dirs

# a report moved to another folder, nothing else changed (the run finds
# nothing new): its file is where notmuch holds it now, as in a full scan
mv "$(report_file moved 5)" "$BW_TMP/mail/Archive/cur/"
step report-moved
# a report renamed as a mail client marks it read (new/ -> cur/, a flag)
mkdir -p "$BW_TMP/mail/INBOX/new"
f=$(report_file report-moved 7)
mv "$f" "$BW_TMP/mail/INBOX/new/$(basename "$f" | sed 's/:2,.*//')"
step report-new
f=$(report_file report-new 7)
mv "$f" "$BW_TMP/mail/INBOX/cur/$(basename "$f"):2,S"
step report-read
# the same through the hook (notmuch's post-new): a move alone is not
# "nothing new" there either; the scan after it has nothing new and answers
# from what the hook saved
f=$(report_file report-read 11)
mv "$f" "$BW_TMP/mail/Archive/cur/"
notmuch new --no-hooks --quiet
bw_hook "$BW_TMP/hook-moved.err"
bw_expect_eq "report moved, hook" "$rc" 0
step hook-moved
# a report copied into another folder, then its first file removed: the
# message stays, under its other file
f=$(report_file report-read 9)
cp "$f" "$BW_TMP/mail/Archive/cur/copy-of-$(basename "$f")"
step report-copied
rm -f "$f"
step report-copy-left

# a second copy of a message in another folder, and a report removed
cp "$BW_TMP/mail/INBOX/cur/ham-2:2,S" "$BW_TMP/mail/Archive/cur/ham-2-copy:2,S"
rm -f "$(report_file moved 3)"
step copy-remove
bw_expect_eq "a copy and a removal: counted" "$(told copy-remove)" count

# a report removed three levels down (and the mail added meanwhile)
deep=$(python3 -c 'import json, sys
print([b["file"] for b in json.load(open(sys.argv[1]))["bounces"] if "/Lists/2026/deep/" in b["file"]][0])' \
    "$BW_TMP/copy-remove.json")
rm -f "$deep"
mv "$BW_TMP/held/$(held 1)" "$BW_TMP/mail/INBOX/cur/"
step deep-remove
bw_expect_eq "a removal three levels down: counted" "$(told deep-remove)" count

# a whole nested folder removed (and the mail added meanwhile)
rm -rf "$BW_TMP/mail/Lists/2026/deep"
mv "$BW_TMP/held/$(held 1)" "$BW_TMP/mail/INBOX/cur/"
step folder-gone
bw_expect_eq "a folder removed: counted" "$(told folder-gone)" count

# mail added in a new nested folder: told by the directories again
mkdir -p "$BW_TMP/mail/Lists/2027/new-folder/cur"
mv "$BW_TMP/held/$(held 1)" "$BW_TMP/held/$(held 2)" "$BW_TMP/mail/Lists/2027/new-folder/cur/"
step new-folder
bw_expect_eq "added in a new folder: told by the directories" "$(told new-folder)" dirs

# a copy under the same Message-ID need not hold the same bytes: another
# file of a report's Message-ID, first among its files (notmuch lists a
# message's files by directory, then name), that reads as ordinary mail (a
# full scan reads that file: the report goes), then one that reads as
# another report (its recipient and date)
variant() {  # NAME N BODY-FILE: a file first in report N's folder (of step NAME)
    python3 -c 'import json, os, re, sys
b = json.load(open(sys.argv[1]))["bounces"]
r = b[int(sys.argv[2]) % len(b)]
raw = open(sys.argv[3], "rb").read()
raw = re.sub(rb"(?im)^message-id:[^\n]*\n", b"", raw)
open(os.path.join(os.path.dirname(r["file"]), "0-variant-" + sys.argv[2] + ":2,S"), "wb").write(
    b"Message-ID: <" + r["message_id"].encode() + b">\n" + raw)' "$BW_TMP/$1-full.json" "$2" "$3"
}
count_reports() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$1"; }
variant new-folder 11 "$BW_TMP/mail/INBOX/cur/ham-3:2,S"
step report-became-ham
bw_expect_eq "a first file of other bytes that is no report: the report goes" \
    "$(count_reports "$BW_TMP/report-became-ham-full.json")" \
    "$(($(count_reports "$BW_TMP/new-folder-full.json") - 1))"
variant report-became-ham 13 "$(report_file report-became-ham 4)"
step report-became-other
bw_done
