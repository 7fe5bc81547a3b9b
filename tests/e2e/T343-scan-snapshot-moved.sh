#!/bin/sh
# T343-scan-snapshot-moved: libnotmuch 0.37 moves its own handle to the
# newest revision, telling no one, when a message getter meets Xapian's
# DatabaseModifiedError (lib/message.cc, _notmuch_message_ensure_metadata:
# two commits by another writer while we read).  What a run reads after
# that is of a later snapshot than the revision it recorded at its open.
# The run must notice before it saves (bw_nm_source_snapshot_held) and read
# again, so that its state is the one a full rescan gives.
#
# What goes wrong without it (review11 finding 1; the "known ids" comment
# of scan-read.c): a run whose save lists every Message-ID again (it found
# a removal) lists them after the move, so its set K holds a message M
# added after its revision R, under the count of R.  The next run sees M in
# the range after R, takes it for old (it is in K), and one removal in the
# same run cancels it in the count: the removed report stays for good.
#
# Which read meets a real DatabaseModifiedError depends on which of
# Xapian's blocks the writer reused (a dozen tag commits make it likely,
# and then mostly in a query, which fails visibly and is retried already:
# T250).  So the writer commits while the run waits at its read gate
# (BOUNCEWATCH_TEST_READ_GATE), and throwing-notmuch.so makes the move at
# the first message getter after it (BW_TEST_MOVE_AT): the same
# notmuch_database_reopen() libnotmuch makes there.  The getter is the
# profile's reading of the owner's new sent mail, after the read stage.
#
# Three times: `scan` with our own Xapian handle (a fresh handle at its
# revision proves no commit since the open), `hook post-new` without it
# (BOUNCEWATCH_TEST_XAPIAN=off: notmuch's revision, which the reopen
# reloads, against the open's), and `scan` again over a commit that only
# removed a message (notmuch's revision stays: only the fresh handle can
# tell; what goes wrong then is less: the run answers for the older
# snapshot, and the next run sees the removal).  Since tolerate12 the move
# is seen through the engine's notmuch_database_reopen, which counts the
# calls (src/adapters/nm-reopen.h): throwing-notmuch.so makes its call the
# way libnotmuch does, through libnotmuch's own GOT entry.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
bw_thrower_setup   # $thrower, $asan_opts (lib.sh)

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
mkdir -p "$BW_TMP/mail/Archive/cur" "$BW_TMP/held"
bw_bulk_notes "$BW_TMP/mail/Archive/cur" "$BW_TMP/held" 300 290
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
same() { bw_same_json "$1" "$2" "$3" revision; }  # equal but for the revision
report_file() {  # JSON N: the file of the Nth report of a scan
    python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))["bounces"]
print(b[int(sys.argv[2]) % len(b)]["file"])' "$1" "$2"
}
reports() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$1"; }

"$BW_BIN" scan --json >"$BW_TMP/first.json" || bw_expect_eq "first scan" failed ok
bw_full_rescan first
same "first scan == full" "$BW_TMP/first.json" "$BW_TMP/first-full.json"

# moved NAME K REPORT WHAT CMD...: one case.
#  1. The range of CMD's run: an old message removed (the count finds it,
#     so the save lists every id again) and a new sent message (the
#     profile stage reads it through message getters).
#  2. CMD (VAR=VALUE... PROGRAM ARGS...: env(1)'s operands) runs; while it waits at its read gate, `notmuch new` indexes a
#     new message M (WHAT "add"), or only a removal (WHAT "remove": that
#     moves notmuch's revision not at all, Xapian's does); the move is made
#     at the next getter.
#  3. It must have made the move and read again; `scan` answers what a
#     full rescan answers.
#  4. Report number REPORT removed: the next run must see it go, as a full
#     rescan does (a set holding M under R's count would cancel it).
moved() {
    name=$1 k=$2 report=$3 what=$4
    shift 4
    rm -f "$BW_TMP/mail/Archive/cur/bulk-00$k:2,"
    f=$(ls "$BW_TMP/mail/Sent/cur" | grep -v again | head -1)
    sed "s/^Message-ID: <\\(.*\\)>/Message-ID: <again$k.\\1>/I" "$BW_TMP/mail/Sent/cur/$f" \
        >"$BW_TMP/mail/Sent/cur/again$k:2,S"
    notmuch new --no-hooks --quiet
    env LD_PRELOAD="$thrower" ASAN_OPTIONS="$asan_opts" BW_TEST_MOVE_AT="$BW_TMP/$name.move" \
        BOUNCEWATCH_TEST_READ_GATE="$BW_TMP/$name.gate" BOUNCEWATCH_DEBUG_TIMING=1 \
        "$@" >"$BW_TMP/$name.out" 2>"$BW_TMP/$name.err" &
    pid=$!
    i=0
    while [ ! -e "$BW_TMP/$name.gate.waiting" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$BW_TMP/$name.gate.waiting" ] || bw_expect_eq "$name: the run waits at its read gate" no yes
    if [ "$what" = add ]; then
        mv "$BW_TMP/held/bulk-29$k:2," "$BW_TMP/mail/Archive/cur/"
    else
        rm -f "$BW_TMP/mail/Archive/cur/bulk-01$k:2,"
    fi
    notmuch new --no-hooks --quiet
    touch "$BW_TMP/$name.move" "$BW_TMP/$name.gate.go"
    rc=0
    wait "$pid" || rc=$?
    bw_expect_eq "$name: exit status" "$rc" 0
    # the case is made: notmuch's handle was moved during the run
    [ -s "$BW_TMP/$name.move.done" ] || bw_expect_eq "$name: notmuch's handle moved" no yes
    extra=$strict_extra
    case "$*" in *BOUNCEWATCH_TEST_XAPIAN=off*) extra=0 ;; esac   # (no handle: no strict test)
    bw_expect_eq "$name: the run read again" "$(grep -c 'timing: retry' "$BW_TMP/$name.err")" \
        $((1 + extra))
    bw_full_rescan "$name"
    # (the command's word, not the path of the program: a build tree under
    # a directory named after a scan matched "*scan*" with `hook post-new`)
    case " $* " in
    *" scan "*) same "$name: the run's answer == full" "$BW_TMP/$name.out" "$BW_TMP/$name-full.json" ;;
    esac
    # (no other run in between: the next one would list every id again,
    # as the count finds M new, and mend the set)
    before=$(reports "$BW_TMP/$name-full.json")
    rm -f "$(report_file "$BW_TMP/$name-full.json" "$report")"
    sleep 1.1   # notmuch new records the folder's new mtime (a later second)
    notmuch new --no-hooks --quiet
    "$BW_BIN" scan --json >"$BW_TMP/$name-next.json" || bw_expect_eq "$name: next scan" failed ok
    bw_full_rescan "$name-next"
    same "$name: next run == full" "$BW_TMP/$name-next.json" "$BW_TMP/$name-next-full.json"
    bw_expect_eq "$name: the removed report left" "$(reports "$BW_TMP/$name-next.json")" \
        "$((before - 1))"
}

# A writer that commits during a run without moving notmuch's handle (one
# `notmuch tag`: what a mail client does for every message read).  The
# run's reads are all of its snapshot, and the count of notmuch's reopens
# (src/adapters/nm-reopen.h: the engine's notmuch_database_reopen, which
# libnotmuch's own call reaches, proven at the first question) says that
# no move happened: the run does not read again.  With the proof off
# (BOUNCEWATCH_TEST_REOPEN_PROOF=off: the strict check, no commit at all
# since the open) the same run reads again once: the commit fell inside
# the run, and the attempt stops at the end of its read stage (the held
# check asked there in every run, before the parse and the
# classification).  No preload in these two: libnotmuch and the engine
# as they are run.
tolerated() {
    name=$1 proof=$2 retries=$3 k=$4 early=$5
    shift 5
    f=$(ls "$BW_TMP/mail/Sent/cur" | grep -v again | head -1)
    sed "s/^Message-ID: <\\(.*\\)>/Message-ID: <again$k.\\1>/I" "$BW_TMP/mail/Sent/cur/$f" \
        >"$BW_TMP/mail/Sent/cur/again$k:2,S"
    notmuch new --no-hooks --quiet
    env "$@" BOUNCEWATCH_TEST_REOPEN_PROOF="$proof" BOUNCEWATCH_TEST_READ_GATE="$BW_TMP/$name.gate" \
        BOUNCEWATCH_DEBUG_TIMING=1 "$BW_BIN" scan --json >"$BW_TMP/$name.out" 2>"$BW_TMP/$name.err" &
    pid=$!
    i=0
    while [ ! -e "$BW_TMP/$name.gate.waiting" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$BW_TMP/$name.gate.waiting" ] || bw_expect_eq "$name: the run waits at its read gate" no yes
    before=$(notmuch count --lastmod '*' | cut -f3)
    notmuch tag +read$k -- "$(notmuch search --output=messages --limit=1 'folder:Archive')"
    after=$(notmuch count --lastmod '*' | cut -f3)
    [ "$after" -gt "$before" ] || bw_expect_eq "$name: the writer committed" "$before $after" "a later revision"
    touch "$BW_TMP/$name.log" "$BW_TMP/$name.gate.go"   # (BW_TEST_LOG_AT's file)
    rc=0
    wait "$pid" || rc=$?
    bw_expect_eq "$name: exit status" "$rc" 0
    got_retries=$(grep -c 'timing: retry' "$BW_TMP/$name.err")
    bw_expect_eq "$name: the run read again" "$got_retries" "$retries"
    case "$*" in
    *BW_TEST_LOG_AT*) [ -s "$BW_TMP/$name.log.done" ] || bw_expect_eq "$name: libnotmuch logged" no yes ;;
    esac
    # the attempt that read again stopped at the end of its read stage,
    # before the profile, the parse and the classification
    [ "$early" = no ] || bw_expect_eq "$name: stages before reading again" \
        "$(sed '/timing: retry/q' "$BW_TMP/$name.err" | grep -E 'timing: (profile|parse|load)')" ""
    bw_full_rescan "$name"
    same "$name: the run's answer == full" "$BW_TMP/$name.out" "$BW_TMP/$name-full.json"
}
tolerated commit "" 0 8 no
# (the cases below read again once for their move; without the proof, as
# this case then shows, also once for their commit at the gate, seen at
# the end of the first attempt's read stage, before the move is made)
strict_extra=0
[ "$got_retries" = 0 ] || strict_extra=1
tolerated strict off 1 9 yes
# libnotmuch caught and logged a Xapian exception during that run (after
# two commits a read of the older revision may fail so, and a getter such
# as notmuch_message_get_date then answers a default, 0): the commit is not
# tolerated, the run reads again (at its save: the log is made at the
# profile stage)
tolerated logged "" 1 10 no LD_PRELOAD="$thrower" ASAN_OPTIONS="$asan_opts" \
    BW_TEST_LOG_AT="$BW_TMP/logged.log"

moved xapian 5 3 add "$BW_BIN" scan --json
# (the variable goes to the same env as the preload: a second env(1) would be
# a program of its own, and in a sanitizer build it cannot load the
# sanitized preload, exit 127)
moved notmuch 6 5 add BOUNCEWATCH_TEST_XAPIAN=off "$BW_BIN" hook post-new
# a move over a removal only: our Xapian handle's revision test alone sees it
moved removal 7 7 remove "$BW_BIN" scan --json

# Another program writing during every attempt (BW_TEST_MOVE_EVERY_OPEN:
# the first getter after each open runs `notmuch tag`, a commit, and
# notmuch's handle moves to it): the run reads again until its attempts
# are spent, then fails (exit 69) saying what happened, not "A Xapian
# exception occurred" (none did); the next run is whole.
id=$(notmuch search --output=messages --limit=1 '*' | sed 's/^id://')
cat >"$BW_TMP/writer.sh" <<EOF
n=\$(cat "$BW_TMP/writes" 2>/dev/null || echo 0)
notmuch tag +w\$n -- "id:$id" && echo \$((n + 1)) >"$BW_TMP/writes"
EOF
rc=0
env LD_PRELOAD="$thrower" ASAN_OPTIONS="$asan_opts" BW_TEST_MOVE_EVERY_OPEN="sh $BW_TMP/writer.sh" \
    BW_TEST_MOVE_EVERY_OPEN_LOG="$BW_TMP/every.log" BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" scan --json --full >"$BW_TMP/every.out" 2>"$BW_TMP/every.err" || rc=$?
bw_expect_eq "a writer in every attempt: exit status" "$rc" 69
bw_expect_eq "a writer in every attempt: moves" "$(wc -l <"$BW_TMP/every.log")" 10
bw_expect_eq "a writer in every attempt: commits" "$(cat "$BW_TMP/writes")" 10
grep -q "kept changing while it was read (another program was writing" "$BW_TMP/every.err" \
    || bw_expect_eq "a writer in every attempt: message" "$(grep -v timing "$BW_TMP/every.err")" \
        "...kept changing while it was read (another program was writing..."
grep -q "Xapian exception" "$BW_TMP/every.err" \
    && bw_expect_eq "a writer in every attempt: no exception said" \
        "$(grep -v timing "$BW_TMP/every.err")" "(no Xapian exception)"
"$BW_BIN" scan --json >"$BW_TMP/after-every.json" || bw_expect_eq "after the writer: scan" failed ok
bw_full_rescan after-every
same "after the writer: scan == full" "$BW_TMP/after-every.json" "$BW_TMP/after-every-full.json"
bw_done
