#!/bin/sh
# T220-scan-tag: `scan --tag` writes bounce, backscatter and bw/<id> (SPEC
# section 3), touches no other tag, is idempotent (a second run writes
# nothing: the database revision stays), and removes only its own stale
# tags when a verdict changes.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" flood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
# The user's own tags, including one named like ours on ordinary mail.
notmuch tag +important -- id:bs-flood-1@mx.mail.example.ru
notmuch tag +backscatter +keep -- from:alice@friends.example.com
notmuch dump --output="$BW_TMP/before.dump"
revision() { notmuch count --lastmod '*' | cut -f3; }

"$BW_BIN" scan --json --tag >"$BW_TMP/scan.json" || bw_expect_eq "scan --tag exit" failed ok
notmuch dump --output="$BW_TMP/after1.dump"

# Every change is an addition of one of our tags on a report, as the JSON says.
python3 - "$BW_TMP/before.dump" "$BW_TMP/after1.dump" "$BW_TMP/scan.json" <<'PY' || bw_expect_eq "tag changes" wrong right
import json, sys, urllib.parse
def load(p):
    out = {}
    for line in open(p):
        if line.startswith("#") or not line.strip():
            continue
        tags, _, mid = line.rstrip("\n").partition(" -- id:")
        out[urllib.parse.unquote(mid)] = {urllib.parse.unquote(t[1:]) for t in tags.split()}
    return out
before, after = load(sys.argv[1]), load(sys.argv[2])
doc = json.load(open(sys.argv[3]))
want = {}
for b in doc["bounces"]:
    t = {"bounce"}
    if b["class"] == "backscatter":
        t.add("backscatter")
        if b["campaign"]:
            t.add("bw/" + b["campaign"])
    want[b["message_id"]] = t
bad = 0
for mid in set(before) | set(after):
    old, new = before.get(mid, set()), after.get(mid, set())
    if old - new:
        print("  removed from %s: %s" % (mid, old - new)); bad += 1
    if new - old - want.get(mid, set()):
        print("  unexpected on %s: %s" % (mid, new - old - want.get(mid, set()))); bad += 1
    if mid in want and not want[mid] <= new:
        print("  missing on %s: %s" % (mid, want[mid] - new)); bad += 1
n_bs = sum(1 for m in after if "backscatter" in after[m] and m.startswith("bs-"))
if n_bs != 40:
    print("  %d flood reports tagged backscatter, want 40" % n_bs); bad += 1
sys.exit(1 if bad else 0)
PY

# Idempotent: nothing written the second time.
rev1=$(revision)
"$BW_BIN" scan --json --tag >/dev/null || bw_expect_eq "second scan --tag exit" failed ok
notmuch dump --output="$BW_TMP/after2.dump"
bw_expect_eq "second --tag leaves the tags" "$(cat "$BW_TMP/after2.dump")" "$(cat "$BW_TMP/after1.dump")"
bw_expect_eq "second --tag writes nothing" "$(revision)" "$rev1"

# A verdict changes: a Sent copy of one forged original turns up (the owner
# did send it after all).  Its report loses backscatter and bw/..., keeps
# bounce; the user's tags everywhere stay.
mid=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
b = [b for b in d["bounces"] if b["message_id"] == "bs-flood-1@mx.mail.example.ru"][0]
print(b["original"]["message_id"])' "$BW_TMP/scan.json")
mkdir -p "$BW_TMP/mail/Sent/cur"
cat >"$BW_TMP/mail/Sent/cur/9999.sent:2,S" <<MAIL
From: Olive Owner <owner@example.org>
To: <someone@mail.example.ru>
Subject: sent after all
Date: Fri, 20 Nov 2026 09:00:00 +0000
Message-ID: <$mid>

really mine
MAIL
# (notmuch new applies maildir flags: unread may go; it is not ours and is ignored below)
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json --tag >"$BW_TMP/scan2.json" || bw_expect_eq "third scan --tag exit" failed ok
tags=$(notmuch search --output=tags id:bs-flood-1@mx.mail.example.ru | grep -v '^unread$' | sort | tr '\n' ' ')
bw_expect_eq "changed verdict: own stale tags removed, others kept" "$tags" "bounce important inbox "
tags=$(notmuch search --output=tags from:alice@friends.example.com | grep -v '^unread$' | sort | tr '\n' ' ')
bw_expect_eq "user's backscatter tag on ordinary mail kept" "$tags" "backscatter inbox keep "
# The user rebuilds the notmuch database (new UUID, no tags): the next
# scan --tag writes every tag again.
rm -rf "$BW_TMP/mail/.notmuch"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json --tag >/dev/null || bw_expect_eq "scan --tag on a rebuilt database" failed ok
bw_expect_eq "rebuilt database: reports tagged again" "$(notmuch count tag:bounce)" 43

# The hook with nothing new stops after the state's meta only when no tags
# are owed and no backscatter report is recent enough for a surge to be
# under way.  A scan without --tag leaves the tags owed: the next hook, with
# nothing new, still writes them.
rm -rf "$BW_TMP/mail/.notmuch" "$XDG_DATA_HOME/bouncewatch"
notmuch new --no-hooks --quiet
"$BW_BIN" scan --json >/dev/null || bw_expect_eq "scan without --tag" failed ok
bw_expect_eq "scan without --tag writes no tag" "$(notmuch count tag:bounce)" 0
BOUNCEWATCH_NOW=2026-12-20T14:00:00+00:00 BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" hook post-new 2>"$BW_TMP/hook1.log" || bw_expect_eq "hook exit" failed ok
bw_expect_eq "hook with nothing new writes the owed tags" "$(notmuch count tag:bounce)" 43
bw_expect_eq "owed tags: the hook loads the state" \
    "$(grep -c 'timing: unchanged' "$BW_TMP/hook1.log")" 0
rev1=$(revision)
BOUNCEWATCH_NOW=2026-12-20T14:00:00+00:00 BOUNCEWATCH_DEBUG_TIMING=1 \
    "$BW_BIN" hook post-new 2>"$BW_TMP/hook2.log" || bw_expect_eq "second hook exit" failed ok
bw_expect_eq "nothing new, nothing owed, no recent report: the hook stops early" \
    "$(grep -c 'timing: unchanged' "$BW_TMP/hook2.log")" 1
# the revisions of the first hook's own tags were taken as its own: the
# second hook does not even ask notmuch what changed
bw_expect_eq "our own tags are not new mail" "$(grep -c 'timing: no-writes' "$BW_TMP/hook2.log")" 1
bw_expect_eq "the early stop writes nothing" "$(revision)" "$rev1"
# During the flood (its reports are between 09:00 and 11:30): the hook does
# not stop early.
BOUNCEWATCH_NOW=2026-11-20T11:00:00+00:00 BOUNCEWATCH_DEBUG_TIMING=1 NO_AT_BRIDGE=1 DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
    "$BW_BIN" hook post-new --no-notify 2>"$BW_TMP/hook3.log" || bw_expect_eq "third hook exit" failed ok
bw_expect_eq "recent backscatter: the hook loads the state" \
    "$(grep -c 'timing: unchanged' "$BW_TMP/hook3.log")" 0
bw_done
