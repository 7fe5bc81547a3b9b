#!/bin/sh
# T280-report-honest: the human report never misleads (issue 11 item 3), on
# a mailbox with an old flood and a recent tail (fixture kind "oldflood": 211
# reports in one day 34 days ago, its tail the next day, a lone forged
# report two days ago, a real bounce four days ago, a vacation reply):
#  - the chart covers the window with the surge, names it, and scales
#    honestly (the flood day has the long bar, the tail a short one);
#  - the tail of the flood's campaign is the same surge, not a second one;
#  - the vacation reply is not listed among the real bounces;
#  - addresses that are not the owner's are not called forged senders;
#  - counts agree in number ("1 report"), a one-report campaign shows its
#    time once, and the numbered steps are things to do;
#  - the notification gives the time of the first report, not of the hour;
#  - all of it in Japanese too.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
export TZ=UTC

python3 "$BW_SRCDIR/tests/fixtures/make-mailbox.py" oldflood "$BW_TMP/mail" --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$BW_TMP/mail" owner@example.org

LC_ALL=C LANGUAGE= "$BW_BIN" scan >"$BW_TMP/report.txt" || bw_expect_eq "scan" failed ok
"$BW_BIN" scan --json >"$BW_TMP/scan.json" || bw_expect_eq "scan --json" failed ok
report=$BW_TMP/report.txt
has() {  # has NAME TEXT
    grep -qF -- "$2" "$report" || bw_expect_eq "$1" "(not found)" "$2"
}
hasnt() {  # hasnt NAME TEXT
    if grep -qF -- "$2" "$report"; then bw_expect_eq "$1" "$(grep -F -- "$2" "$report")" "(absent)"; fi
}

# The surge: one, from the flood's first hour to the end of its tail.
python3 - "$BW_TMP/scan.json" <<'PY' || bw_expect_eq "one surge with the tail" no yes
import json, sys
d = json.load(open(sys.argv[1]))
s = d["surges"]
assert len(s) == 1, s
assert s[0]["count"] == 219, s[0]["count"]            # 211 + the trickle + the tail
assert s[0]["start"].startswith("2026-10-17T06:00"), s[0]["start"]
assert s[0]["end"].startswith("2026-10-18T13:59"), s[0]["end"]
# The JSON keeps its SPEC meaning: forged_senders lists every sender address.
big = max(d["campaigns"], key=lambda c: c["size"])
assert set(big["forged_senders"]) == {"owner@example.org", "noreply@parcel-track.example"}, big
PY
has "surge line" "2026-10-17 06:00 .. 2026-10-18 13:59 UTC: 219 reports"
has "summary counts" "Surges: 1."

# The chart: its window named, containing the flood day.
has "chart window" "Reports per day, 2026-10-17 to 2026-11-18"
has "chart scale" "one mark stands for up to 6 reports"
bar() {  # bar DAY: the number of marks on that day's line
    sed -n "s/^  $1 |\\([#+]*\\) .*/\\1/p" "$report" | tr -d '\n' | wc -c | tr -d ' '
}
bw_expect_eq "flood day: the long bar" "$(bar 2026-10-17)" 36
bw_expect_eq "tail day: a short bar" "$(bar 2026-10-18)" 2
bw_expect_eq "one real bounce: one mark" "$(bar 2026-11-16)" 1
grep -q '^  2026-10-17 |.*<- surge$' "$report" || bw_expect_eq "flood day marked as the surge" no yes

# Real bounces: three failures; the vacation reply apart.
has "real bounces" "Real bounces of mail you sent (3)"
sed -n '/^Real bounces of mail you sent/,/^What to do:/p' "$report" >"$BW_TMP/legit.txt"
if grep -q vacation "$BW_TMP/legit.txt"; then
    bw_expect_eq "no vacation reply among the real bounces" "$(cat "$BW_TMP/legit.txt")" "(none)"
fi
has "the vacation reply apart" "1 automatic reply to mail you sent"
has "summary line" "real bounces: 3, automatic replies to your mail: 1,"

# Sender addresses: the owner's, and the others for what they are.
has "the owner's address" "your address, forged: owner@example.org"
has "the others labelled" "other sender addresses in this campaign: noreply@parcel-track.example"
hasnt "nobody else is called forged" "forged sender: noreply"

# Counts and times.
hasnt "no '1 reports'" " 1 reports"
has "a one-report campaign" "1 report, 2026-11-18 11:03 UTC, forged elsewhere"
hasnt "no time said twice" "11:03 UTC .. 2026-11-18 11:03"
# The numbered steps are things to do; the explanation is above them.
sed -n '/^What to do first:/,/^$/p' "$report" >"$BW_TMP/steps.txt"
if grep -q "Anyone can write" "$BW_TMP/steps.txt"; then
    bw_expect_eq "no explanation among the steps" "$(cat "$BW_TMP/steps.txt")" "(steps only)"
fi
sed -n '2p' "$report" | grep -q "Anyone can write any sender address" ||
    bw_expect_eq "the explanation is in the summary" "$(sed -n 2p "$report")" "...Anyone can write..."

# Japanese: the same report, counts and labels translated (the source's
# po/ja.po, see bw_ja_setup).
if bw_ja_setup; then
    LC_ALL=ja_JP.UTF-8 LANGUAGE=ja "$BW_BIN" scan \
        >"$BW_TMP/report-ja.txt" || bw_expect_eq "scan ja" failed ok
    for want in "2026-10-17 から 2026-11-18 まで" "報告 219 件" "1 件、2026-11-18 11:03 UTC" \
                "偽装されたあなたのアドレス: owner@example.org" \
                "このキャンペーンのその他の差出人アドレス: noreply@parcel-track.example" \
                "自動返信 1 件" "記号 1 つが最大 6 件"; do
        grep -qF -- "$want" "$BW_TMP/report-ja.txt" || bw_expect_eq "ja: $want" "(not found)" "$want"
    done
    if grep -q "reports\|report,\|Real bounces\|surge" "$BW_TMP/report-ja.txt"; then
        bw_expect_eq "ja: nothing left in English" \
            "$(grep "reports\|report,\|Real bounces\|surge" "$BW_TMP/report-ja.txt")" "(none)"
    fi
    unset LOCPATH BOUNCEWATCH_LOCALEDIR
else
    echo "# no Japanese catalogue or no ja_JP.UTF-8 locale: the Japanese part is skipped"
fi

# The notification during the flood: "Since" the first report, not 06:00.
bw_require_dbusmock_soft() {
    PY=
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import dbusmock, dbus' 2>/dev/null; then PY=$p; break; fi
    done
    [ -n "$PY" ] && command -v dbus-run-session >/dev/null 2>&1
}
if bw_require_dbusmock_soft; then
    export PY BW_TMP
    during=2026-10-17T07:30:00+00:00
    first=$(python3 - "$BW_TMP/scan.json" "$during" <<'PY'
import datetime as dt, json, sys
d = json.load(open(sys.argv[1]))
now = dt.datetime.fromisoformat(sys.argv[2])
ts = [dt.datetime.fromisoformat(b["date"]) for b in d["bounces"]
      if b["class"] == "backscatter" and dt.datetime.fromisoformat(b["date"]) <= now]
print(min(ts).astimezone(dt.timezone.utc).strftime("%H:%M"))
PY
)
    cat >"$BW_TMP/notify.sh" <<'EOF'
MOCK="$BW_SRCDIR/tests/e2e/notify-mock.py"
"$PY" -m dbusmock --template notification_daemon -p '{"capabilities": "body"}' \
    >"$BW_TMP/mock.log" 2>&1 &
mock=$!
"$PY" "$MOCK" wait-name org.freedesktop.Notifications 10 || { kill $mock; exit 77; }
XDG_DATA_HOME="$BW_TMP/during" BOUNCEWATCH_NOW=$1 "$BW_BIN" hook post-new --quiet 2>/dev/null
"$PY" "$MOCK" calls
kill $mock
EOF
    dbus-run-session -- sh "$BW_TMP/notify.sh" "$during" >"$BW_TMP/calls.txt" 2>/dev/null
    body=$(python3 - "$BW_TMP/calls.txt" <<'PY'
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print(calls[-1]["body"] if calls else "(no notification)")
PY
)
    case $first in 06:00) bw_expect_eq "fixture: first report after the hour" "$first" "06:01 or later" ;; esac
    case $body in
    *"Since $first,"*) ;;
    *) bw_expect_eq "notification: since the first report" "$body" "Since $first, ..." ;;
    esac
else
    echo "# python3-dbusmock or dbus-run-session missing: the notification part is skipped"
fi
bw_done
