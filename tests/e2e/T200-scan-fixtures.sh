#!/bin/sh
# T200-scan-fixtures: `bouncewatch scan --json` on the five fixture
# mailboxes (calm, flood, compromise, newsletter, nosent) built into real
# notmuch databases: the JSON follows shared/SPEC.md section 2, every report
# of the fixture is found, and the assessment is the expected one.  The
# human report prints its sections.
. "$BW_SRCDIR/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir

check_json() {  # FILE KIND: SPEC section 2 shape and per-fixture expectations
    python3 - "$1" "$2" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
kind = sys.argv[2]
t3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
errs = []
def need(cond, msg):
    if not cond:
        errs.append(msg)
for k, typ in (("database", str), ("revision", int), ("messages_examined", int),
               ("bounces", list), ("campaigns", list), ("surges", list), ("assessment", dict)):
    need(isinstance(doc.get(k), typ), "top-level %s missing or not %s" % (k, typ.__name__))
for b in doc["bounces"]:
    need(b["class"] in ("legitimate", "backscatter", "undetermined"), "bad class %r" % b["class"])
    need(0 <= b["score"] <= 1, "score out of range")
    need(t3339.match(b["date"] or ""), "bad date %r" % b["date"])
    need(isinstance(b["evidence"], list) and b["evidence"], "no evidence for %s" % b["message_id"])
    need(b["kind"] in ("dsn", "bounce", "autoreply", "challenge", "virus", "feedback"), "bad kind")
    need((b["campaign"] is None) or b["class"] == "backscatter", "campaign on a non-backscatter report")
ids = set()
for c in doc["campaigns"]:
    need(re.match(r"^bw-[0-9a-f]{8}$", c["id"]), "bad campaign id %r" % c["id"])
    need(c["size"] == len(c["members"]), "size != members")
    need(c["origin"] in ("own-account", "foreign", "unknown"), "bad origin")
    need(t3339.match(c["first_seen"]) and t3339.match(c["last_seen"]), "bad campaign times")
    ids.add(c["id"])
for b in doc["bounces"]:
    need(b["campaign"] is None or b["campaign"] in ids, "report in an unlisted campaign")
need(doc["assessment"]["status"] in ("clear", "spoofing", "compromise-suspected"), "bad status")
need(isinstance(doc["assessment"]["advice"], list), "advice not a list")

# What the fixture holds (tests/fixtures/make-mailbox.py).
n = len(doc["bounces"])
bs = sum(1 for b in doc["bounces"] if b["class"] == "backscatter")
status = doc["assessment"]["status"]
want = {"calm": (3, 0, "clear"), "flood": (43, 40, "spoofing"),
        "compromise": (33, 30, "compromise-suspected"), "newsletter": (28, 0, "clear"),
        "nosent": (43, 40, "spoofing")}[kind]
need(n == want[0], "%s: %d reports found, want %d" % (kind, n, want[0]))
flood_bs = sum(1 for b in doc["bounces"] if b["class"] == "backscatter" and b["message_id"].startswith("bs-"))
need(flood_bs == want[1], "%s: %d forged reports called backscatter, want %d" % (kind, flood_bs, want[1]))
# nosent too: without Sent copies the owner's two real bounces may stay
# undetermined, never backscatter.
need(bs == want[1], "%s: %d backscatter, want %d" % (kind, bs, want[1]))
need(status == want[2], "%s: status %s, want %s" % (kind, status, want[2]))
if kind in ("calm", "newsletter"):
    need(not doc["surges"], "%s: surge reported" % kind)
if kind in ("flood", "compromise"):
    need(doc["surges"], "%s: no surge" % kind)
    need(len(doc["campaigns"]) == 1, "%s: %d campaigns, want 1" % (kind, len(doc["campaigns"])))
for e in errs:
    print("  " + e)
sys.exit(1 if errs else 0)
PY
}

for kind in calm flood compromise newsletter nosent; do
    rm -rf "$BW_TMP/mail" "$XDG_DATA_HOME/bouncewatch"
    python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" "$kind" "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
    bw_notmuch_setup "$BW_TMP/mail" owner@example.org
    rc=0; "$BW_BIN" scan --json >"$BW_TMP/out.json" || rc=$?
    bw_expect_eq "$kind: scan --json exit" "$rc" 0
    bw_expect_ok "$kind: JSON per SPEC" check_json "$BW_TMP/out.json" "$kind"
    rc=0; "$BW_BIN" scan >"$BW_TMP/out.txt" || rc=$?
    bw_expect_eq "$kind: human report exit" "$rc" 0
    if [ "$kind" = flood ]; then
        grep -q "Campaigns" "$BW_TMP/out.txt" || bw_expect_eq "flood: campaigns section" missing present
        grep -q "|#" "$BW_TMP/out.txt" || bw_expect_eq "flood: chart" missing present
    fi
    # State file: private.
    mode=$(stat -c %a "$XDG_DATA_HOME/bouncewatch/state.sqlite")
    bw_expect_eq "$kind: state file mode" "$mode" 600
    mode=$(stat -c %a "$XDG_DATA_HOME/bouncewatch")
    bw_expect_eq "$kind: state dir mode" "$mode" 700
done

# No Sent copies, but one message From the owner that is no copy of the
# owner's mail (a list server's loop alert written in the owner's name,
# which no report query matches): the mailbox still keeps no Sent copies,
# so the two real bounces must not turn into "never sent from here".
rm -rf "$BW_TMP/mail" "$XDG_DATA_HOME/bouncewatch"
python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" nosent "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
inbox=$(dirname "$(find "$BW_TMP/mail" -type f -path '*/cur/*' | head -n 1)")
cat >"$inbox/owner-named-notice:2,S" <<'MAIL'
Return-Path: <>
Date: Mon, 16 Nov 2026 09:00:00 +0900
From: owner@example.org
To: owner@example.org
Subject: Loop Alert: Duplicated Message-ID (club ML)
Message-Id: <loop-alert-1@lists.example.net>
X-MLServer: fml [fml 4.0.3 release]
Content-Type: text/plain; charset=us-ascii

Duplicated Message-ID in <club@lists.example.net>.
MAIL
bw_notmuch_setup "$BW_TMP/mail" owner@example.org
rc=0; "$BW_BIN" scan --json >"$BW_TMP/out.json" || rc=$?
bw_expect_eq "nosent + owner-named notice: scan --json exit" "$rc" 0
bw_expect_ok "nosent + owner-named notice: real bounces not backscatter" check_json "$BW_TMP/out.json" nosent

# The database is found as notmuch finds it: XDG config of a profile, no
# NOTMUCH_CONFIG; a missing configuration is a clear error (exit 69).
mkdir -p "$XDG_CONFIG_HOME/notmuch/work"
cp "$NOTMUCH_CONFIG" "$XDG_CONFIG_HOME/notmuch/work/config"
n=$(env -u NOTMUCH_CONFIG NOTMUCH_PROFILE=work "$BW_BIN" scan --json --full |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["bounces"]))')
bw_expect_eq "XDG profile config found" "$n" 43
rc=0; env -u NOTMUCH_CONFIG NOTMUCH_PROFILE=nosuch "$BW_BIN" scan >/dev/null 2>"$BW_TMP/noconf.err" || rc=$?
bw_expect_eq "no config: exit status (78, configuration)" "$rc" 78
grep -q "notmuch" "$BW_TMP/noconf.err" || bw_expect_eq "no config: message" "$(cat "$BW_TMP/noconf.err")" "...notmuch..."

# --since keeps only recent reports; a bad value is a usage error.
rc=0; "$BW_BIN" scan --json --since=1d >"$BW_TMP/since.json" || rc=$?
bw_expect_eq "--since=1d exit" "$rc" 0
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bounces"]))' "$BW_TMP/since.json")
bw_expect_eq "--since=1d keeps the flood only" "$n" 40
rc=0; "$BW_BIN" scan --since=soon >/dev/null 2>&1 || rc=$?
bw_expect_eq "--since=soon is a usage error" "$rc" 64
bw_done
