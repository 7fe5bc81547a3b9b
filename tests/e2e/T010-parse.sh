#!/bin/bash
# T010-parse.sh: `bouncewatch parse` as shared/SPEC.md section 1 says, on the
# project's own fixtures (tests/corpus): one JSON object per message, in
# input order, JSON Lines; an mbox gives one line per message with `index`;
# a file that cannot be read gets its own line with `error` and exit status
# 1 while the rest of the batch is still reported; `-` reads stdin; the
# human summary names kind, family and recipients.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
bw_require_bin
bw_require_cmd python3
bw_tmpdir

C="$BW_SRCDIR/tests/corpus"
out="$BW_TMP/out.jsonl"

# A batch: a DSN, an mbox of two, a missing file, an auto-reply, ordinary mail.
set +e
"$BW_BIN" parse --json "$C/dsn/postfix-user-unknown.eml" "$C/mbox/two-bounces.mbox" \
    "$BW_TMP/missing.eml" "$C/autoreply/rfc3834-en.eml" "$C/ham/newsletter.eml" >"$out"
rc=$?
set -e
bw_expect_eq "exit status with one unreadable input" "$rc" 1

python3 - "$out" "$C" "$BW_TMP/missing.eml" <<'EOF'
import json, sys
out, corpus, missing = sys.argv[1:4]
lines = [json.loads(l) for l in open(out, encoding="utf-8")]
def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
check(len(lines) == 6, "6 lines (1 + 2 mbox + 1 error + 1 + 1), got %d" % len(lines))
spec = {"file", "bounce", "kind", "recipients", "original", "error"}
for l in lines:
    check(spec <= set(l), "SPEC keys in every line: %s" % sorted(l))
a, m0, m1, err, auto, ham = lines
check(a["file"] == corpus + "/dsn/postfix-user-unknown.eml" and "index" not in a, "plain file: no index")
check(a["bounce"] and a["kind"] == "dsn", "DSN detected")
r = a["recipients"][0]
check((r["address"], r["action"], r["status"], r["reply_code"], r["reason"], r["remote_mta"]) ==
      ("taro@example.jp", "failed", "5.1.1", "550", "user-unknown", "mx.example.jp"), "DSN recipient: %r" % r)
check(a["original"]["message_id"] == "abc123@mail.example.com" and a["original"]["to"] == ["taro@example.jp"]
      and a["original"]["date"] == "2026-11-20T14:00:00+00:00", "DSN original: %r" % a["original"])
check(a["error"] is None, "no error on a good file")
check((m0.get("index"), m1.get("index")) == (0, 1), "mbox indexes")
check(m1["recipients"][0]["address"] == "slow@example.net" and m1["recipients"][0]["action"] == "delayed",
      "second mbox message")
check(err["file"] == missing and err["error"] and not err["bounce"] and err["recipients"] == []
      and err["original"] is None, "error line: %r" % err)
check(auto["kind"] == "autoreply" and auto["recipients"][0]["reason"] == "vacation", "auto-reply")
check(not ham["bounce"] and ham["kind"] is None and ham["recipients"] == [], "ordinary mail is no report")
EOF
[ $? -eq 0 ] || bw_fail_count=$((bw_fail_count + 1))

# stdin, and CRLF input read like LF input.
"$BW_BIN" parse --json - <"$C/lineends/postfix-crlf.eml" >"$BW_TMP/stdin.jsonl"
"$BW_BIN" parse --json - <"$C/dsn/postfix-user-unknown.eml" >"$BW_TMP/lf.jsonl"
bw_expect_eq "CRLF on stdin reads like LF" "$(bw_json_canon "$BW_TMP/stdin.jsonl")" "$(bw_json_canon "$BW_TMP/lf.jsonl")"

# The human summary.
summary=$("$BW_BIN" parse "$C/dsn/sendmail-two-recipients.eml")
case "$summary" in
    *"dsn (rfc3464)"*"hanako@example.org"*"5.2.2"*"jiro@example.net"*"5.1.2"*) ;;
    *) echo "FAIL: human summary"; echo "$summary"; bw_fail_count=$((bw_fail_count + 1)) ;;
esac

bw_done
