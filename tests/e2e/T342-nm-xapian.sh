#!/bin/sh
# T342-nm-xapian: the count of every message and the listing of every
# Message-ID that bouncewatch asks of notmuch's Xapian database directly
# (src/adapters/nm-xapian.h) are exactly libnotmuch's answers, on a
# database with ghosts (ids named by In-Reply-To/References that no message
# holds), after a deletion that turns a message back into a ghost, after a
# ghost becomes a message, after a deletion that leaves a thread of ghosts
# only; with a Message-ID too long for a term (notmuch keeps its SHA-1)
# and a message without one.  tests/tools/bw-nm-probe prints what the
# notmuch source answers and which way.  The fallbacks: with the schema
# guard failing (BOUNCEWATCH_TEST_XAPIAN=off) or with a commit between our
# handle's open and the answer (the revision guard; also
# BOUNCEWATCH_TEST_XAPIAN=stale), libnotmuch answers, for the snapshot the
# source opened.  Also on a split layout (database.path apart from
# database.mail_root: the Xapian directory is <path>/xapian).  The schema
# guard ("features", "version") and the listing's id checks, on edited
# copies of the metadata and of one Message-ID value (bw-xapian-meta).
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
PROBE="$BW_BUILDDIR/tests/tools/bw-nm-probe"
[ -x "$PROBE" ] || bw_skip "bw-nm-probe not built"

# mail FILE ID [IN-REPLY-TO [REFERENCES]]: a message in the maildir
# ("-" for ID: no Message-ID header)
mail() {
    {
        printf 'From: Pal <pal@example.net>\nTo: owner@example.org\nSubject: %s\n' "$1"
        printf 'Date: Mon, 16 Nov 2026 10:00:00 +0000\n'
        [ "$2" = - ] || printf 'Message-ID: <%s>\n' "$2"
        [ -z "${3:-}" ] || printf 'In-Reply-To: <%s>\n' "$3"
        [ -z "${4:-}" ] || printf 'References: %s\n' "$4"
        printf '\nHello %s.\n' "$1"
    } >"$BW_TMP/mail/cur/$1:2,"
}
long=$(python3 -c 'print("long-" + "x" * 400 + "@example.net")')
mkdir -p "$BW_TMP/mail/cur"
mail a a@example.net ghost-1@example.net '<ghost-0@example.net> <ghost-1@example.net>'
mail b b@example.net a@example.net '<ghost-0@example.net> <ghost-1@example.net> <a@example.net>'
mail c c@example.net ghost-2@example.net
mail d d@example.net
mail e "$long" d@example.net
mail f -
mail g g@example.net
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

# agree NAME: the fast answers are notmuch's (the same count; the same ids
# in the same order as the source's libnotmuch listing, and the set
# `notmuch search` gives), and came from Xapian
agree() {
    "$PROBE" count >"$BW_TMP/$1.count" || bw_expect_eq "$1: probe count" failed ok
    "$PROBE" ids >"$BW_TMP/$1.ids" || bw_expect_eq "$1: probe ids" failed ok
    BOUNCEWATCH_TEST_XAPIAN=off "$PROBE" count >"$BW_TMP/$1.count-nm" ||
        bw_expect_eq "$1: probe count (notmuch)" failed ok
    BOUNCEWATCH_TEST_XAPIAN=off "$PROBE" ids >"$BW_TMP/$1.ids-nm" ||
        bw_expect_eq "$1: probe ids (notmuch)" failed ok
    bw_expect_eq "$1: count from Xapian" "$(tail -1 "$BW_TMP/$1.count")" "answers: xapian=1 notmuch=0"
    bw_expect_eq "$1: ids from Xapian" "$(tail -1 "$BW_TMP/$1.ids")" "answers: xapian=1 notmuch=0"
    bw_expect_eq "$1: fallback count from notmuch" "$(tail -1 "$BW_TMP/$1.count-nm")" \
        "answers: xapian=0 notmuch=1"
    bw_expect_eq "$1: fallback ids from notmuch" "$(tail -1 "$BW_TMP/$1.ids-nm")" \
        "answers: xapian=0 notmuch=1"
    bw_expect_eq "$1: count" "$(head -1 "$BW_TMP/$1.count")" "$(notmuch count --exclude=false '*')"
    bw_expect_eq "$1: count == fallback" "$(head -1 "$BW_TMP/$1.count")" "$(head -1 "$BW_TMP/$1.count-nm")"
    bw_expect_eq "$1: ids == fallback, in order" "$(sed '$d' "$BW_TMP/$1.ids")" \
        "$(sed '$d' "$BW_TMP/$1.ids-nm")"
    bw_expect_eq "$1: ids == notmuch search" "$(sed '$d' "$BW_TMP/$1.ids" | sort)" \
        "$(notmuch search --exclude=false --output=messages '*' | sed 's/^id://' | sort)"
    bw_expect_eq "$1: one id per message" "$(sed '$d' "$BW_TMP/$1.ids" | wc -l)" \
        "$(head -1 "$BW_TMP/$1.count")"
}

agree start
bw_expect_eq "start: 7 messages" "$(head -1 "$BW_TMP/start.count")" 7
bw_expect_eq "start: the long id is kept as notmuch keeps it" \
    "$(grep -c '^notmuch-sha1-' "$BW_TMP/start.ids")" 2    # the long one and f's
bw_expect_eq "start: ghosts are not listed" "$(grep -c ghost "$BW_TMP/start.ids")" 0
bw_expect_eq "start: notmuch has the ghosts" \
    "$(notmuch search --output=messages 'thread:{id:a@example.net}' | wc -l)" 2

# a deletion that leaves a ghost (b still names a): a is a ghost now
rm "$BW_TMP/mail/cur/a:2,"
notmuch new --no-hooks --quiet
agree ghost-again
bw_expect_eq "ghost-again: a is gone" "$(grep -c '^a@example.net$' "$BW_TMP/ghost-again.ids")" 0
bw_expect_eq "ghost-again: 6 messages" "$(head -1 "$BW_TMP/ghost-again.count")" 6

# ghosts become messages: a comes back, ghost-1 arrives
mail a a@example.net ghost-1@example.net '<ghost-0@example.net> <ghost-1@example.net>'
mail h ghost-1@example.net
notmuch new --no-hooks --quiet
agree ghost-real
bw_expect_eq "ghost-real: 8 messages" "$(head -1 "$BW_TMP/ghost-real.count")" 8
bw_expect_eq "ghost-real: ghost-1 is a message" \
    "$(grep -c '^ghost-1@example.net$' "$BW_TMP/ghost-real.ids")" 1

# a deletion that leaves a thread of ghosts only (c: its ghosts go too)
rm "$BW_TMP/mail/cur/c:2,"
notmuch new --no-hooks --quiet
agree ghosts-gone
bw_expect_eq "ghosts-gone: 7 messages" "$(head -1 "$BW_TMP/ghosts-gone.count")" 7

# The revision guard: a commit between the source's open and the answer
# (a new message indexed): libnotmuch answers, of the snapshot the source
# opened (7 messages, not 8)
mail i i@example.net
out=$("$PROBE" --between "notmuch new --no-hooks --quiet" count)
bw_expect_eq "commit between: counted by notmuch, in the source's snapshot" "$out" \
    "7
answers: xapian=0 notmuch=1"
bw_expect_eq "commit between: notmuch counts 8 now" "$(notmuch count '*')" 8
out=$("$PROBE" --between "notmuch tag +seen -- id:d@example.net" ids | tail -1)
bw_expect_eq "tag between: listed by notmuch" "$out" "answers: xapian=0 notmuch=1"
# no commit between: still Xapian
out=$("$PROBE" --between "notmuch count '*'" count)
bw_expect_eq "read between: counted by Xapian" "$out" "8
answers: xapian=1 notmuch=0"
out=$(BOUNCEWATCH_TEST_XAPIAN=stale "$PROBE" count)
bw_expect_eq "stale: counted by notmuch" "$out" "8
answers: xapian=0 notmuch=1"
agree after-guard

# The window the revision guard is for: a commit between our handle's
# open and notmuch's reopen in the source's open (it waits there, at the
# gate).  A removal moves neither the UUID nor notmuch's revision
# (lastmod): only the guard's fresh handle sees it.  Without the guard our
# handle would count g, which notmuch's reopened snapshot no longer holds.
before=$(notmuch count '*')
gate="$BW_TMP/xgate"
BOUNCEWATCH_TEST_XAPIAN_GATE="$gate" "$PROBE" count >"$BW_TMP/window.out" &
pid=$!
i=0
while [ ! -e "$gate.waiting" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
[ -e "$gate.waiting" ] || bw_expect_eq "window: the source waits at the gate" no yes
rm "$BW_TMP/mail/cur/g:2,"
notmuch new --no-hooks --quiet
touch "$gate.go"
wait $pid || bw_expect_eq "window: probe count" failed ok
bw_expect_eq "window: notmuch's reopened snapshot, counted by notmuch" "$(cat "$BW_TMP/window.out")" \
    "$((before - 1))
answers: xapian=0 notmuch=1"
agree after-window

# The guard is asked again before every answer: a commit between the
# count (answered by Xapian) and the listing makes libnotmuch list (its
# handle may have reopened itself meanwhile, lib/message.cc).
n=$(notmuch count '*')
out=$("$PROBE" --second "notmuch tag +seen2 -- id:d@example.net" count+ids)
bw_expect_eq "second question after a commit: count by Xapian, ids by notmuch" \
    "$(printf '%s\n' "$out" | sed -n '1p;$p')" "$n
answers: xapian=1 notmuch=1"
bw_expect_eq "second question after a commit: every id listed" \
    "$(printf '%s\n' "$out" | sed '1d;$d' | wc -l)" "$n"
out=$("$PROBE" --second "notmuch count '*'" count+ids | tail -1)
bw_expect_eq "second question after a read: both by Xapian" "$out" "answers: xapian=2 notmuch=0"

# a split layout: the database apart from the mail, in <path>/xapian
mkdir -p "$BW_TMP/db"
cat >"$BW_TMP/split-config" <<CFG
[database]
path=$BW_TMP/db
mail_root=$BW_TMP/mail
[user]
primary_email=owner@example.org
CFG
export NOTMUCH_CONFIG="$BW_TMP/split-config"
notmuch new --no-hooks --quiet
[ -d "$BW_TMP/db/xapian" ] || bw_expect_eq "split: database in db/xapian" missing there
agree split

# The schema guard reads the "features" metadata (nm-xapian.cc): a
# database an older notmuch created and `notmuch new` upgraded lacks the
# indexed MIME types and the separate body index, and is read; one without
# the ghosts (or the header values, or modification tracking) is not, nor
# one with a feature notmuch 0.37 does not know.
META="$BW_BUILDDIR/tests/tools/bw-xapian-meta"
XDB="$BW_TMP/db/xapian"
features=$("$META" "$XDB" features; printf x)
features=${features%x}
set_features() {   # the lines of $features but those matching $1, then $2
    printf '%s' "$features" | grep -v -e "$1" | { cat; printf '%s' "$2"; } >"$BW_TMP/features"
    "$META" "$XDB" features "$(sed 's/$/\\n/' "$BW_TMP/features" | tr -d '\n')" ||
        bw_expect_eq "features: set" failed ok
}
set_features 'indexed MIME types\|index body and headers' ''
bw_expect_eq "upgraded schema: counted by Xapian" "$("$PROBE" count | tail -1)" \
    "answers: xapian=1 notmuch=0"
agree upgraded
for gone in 'mail documents for missing messages' 'from/subject/message-ID in database' \
            'modification tracking'; do
    set_features "$gone" ''
    bw_expect_eq "without '$gone': counted by notmuch" "$("$PROBE" count | tail -1)" \
        "answers: xapian=0 notmuch=1"
done
set_features 'no line has this' 'a feature of tomorrow	w'
bw_expect_eq "an unknown feature: counted by notmuch" "$("$PROBE" count | tail -1)" \
    "answers: xapian=0 notmuch=1"
set_features 'no line has this' ''
bw_expect_eq "the features as notmuch wrote them: counted by Xapian" "$("$PROBE" count | tail -1)" \
    "answers: xapian=1 notmuch=0"
# ... and the "version": a version-2 database (notmuch 0.37 still opens it,
# read-only) is not read
"$META" "$XDB" version 2 || bw_expect_eq "version: set" failed ok
bw_expect_eq "version 2: counted by notmuch" "$("$PROBE" count | tail -1)" \
    "answers: xapian=0 notmuch=1"
"$META" "$XDB" version 3 || bw_expect_eq "version: set back" failed ok

# The listing's id checks (nm-xapian.cc, as nm-source.c's libnotmuch
# listing): a Message-ID value (slot 1) that is not the document's id term
# among the first 64 documents, or an empty one anywhere (past the first
# 64 it is the only check), gives the listing up both ways (exit 1);
# Xapian's answer is that it gave up.
# ids_given_up NAME: both ways give the listing up
ids_given_up() {
    rc=0
    "$PROBE" ids >"$BW_TMP/$1.ids" || rc=$?
    bw_expect_eq "$1: listing given up" "$rc $(tail -1 "$BW_TMP/$1.ids")" \
        "1 answers: xapian=1 notmuch=0"
    rc=0
    BOUNCEWATCH_TEST_XAPIAN=off "$PROBE" ids >"$BW_TMP/$1.ids-nm" || rc=$?
    bw_expect_eq "$1: libnotmuch's listing given up" "$rc $(tail -1 "$BW_TMP/$1.ids-nm")" \
        "1 answers: xapian=0 notmuch=1"
}
"$META" "$XDB" --slot Qa@example.net 1 other@example.net || bw_expect_eq "slot: set" failed ok
ids_given_up "a value that is not the id term"
"$META" "$XDB" --slot Qa@example.net 1 a@example.net || bw_expect_eq "slot: set back" failed ok
agree slot-back
k=0
while [ $k -lt 64 ]; do k=$((k + 1)); mail "filler-$k" "filler-$k@example.net"; done
notmuch new --no-hooks --quiet
"$META" "$XDB" --slot Qfiller-64@example.net 1 "" || bw_expect_eq "slot: emptied" failed ok
ids_given_up "an empty value past the first 64"
"$META" "$XDB" --slot Qfiller-64@example.net 1 filler-64@example.net ||
    bw_expect_eq "slot: set back" failed ok
agree fillers

bw_done
