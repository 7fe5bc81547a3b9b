#!/bin/sh
# T121-json-format: the versioned JSON contract.  Both outputs carry the
# format version bouncewatch-json(7) and bouncewatch(1) name;
# --format-version below the oldest supported exits 20, above the newest 21,
# with nothing on standard output; and every key the program writes (parse
# lines of the test corpus, the scan document of a mailbox with a flood) is
# documented in bouncewatch-json(7), so a new field cannot ship undocumented.
. "${BW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
export LC_ALL=C LANGUAGE=
page7="$BW_SRCDIR/docs/bouncewatch-json.7"
page1="$BW_BUILDDIR/docs/bouncewatch.1"   # generated: the paths of configure

mail="$BW_TMP/mail"
python3 "$BW_SRCDIR/contrib/demo/build-mailbox.py" "$mail" --base --flood 40 \
    --spread-minutes 30 --now "$BOUNCEWATCH_NOW"
bw_notmuch_setup "$mail" alex@example.org
"$BW_BIN" scan --json --quiet >"$BW_TMP/scan.json" || echo "FAIL: scan --json exited $?"
find "$BW_SRCDIR/tests/corpus" -type f -name '*.eml' | sort >"$BW_TMP/files"
# shellcheck disable=SC2046 # one argument per corpus file
"$BW_BIN" parse --json $(cat "$BW_TMP/files") "$BW_TMP/missing.eml" >"$BW_TMP/parse.jsonl"

# The version written, and the supported range the manual pages state.
cur=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["format_version"])' "$BW_TMP/scan.json")
bw_expect_eq "parse lines carry the same version" \
    "$(python3 -c 'import json, sys
print(sorted({json.loads(l)["format_version"] for l in open(sys.argv[1])}))' "$BW_TMP/parse.jsonl")" "[$cur]"
text7=$(sed 's/\\-/-/g; s/^\.[A-Z]* //' "$page7" | tr '\n' ' ')
min=$(printf '%s\n' "$text7" | sed -n 's/.*the oldest it supports is \([0-9][0-9]*\) *,* *\..*/\1/p')
bw_expect_eq "bouncewatch-json(7) names the version written" \
    "$(printf '%s\n' "$text7" | sed -n 's/.*This bouncewatch writes version \([0-9][0-9]*\).*/\1/p')" "$cur"
bw_expect_eq "bouncewatch(1) names the versions" \
    "$(sed 's/\\-/-/g' "$page1" | tr '\n' ' ' | grep -c "writes version $cur and supports versions $min to $cur")" 1

# Too old, too new, and every version in the range.
for cmd in "parse --json $BW_SRCDIR/tests/corpus/dsn/exim-delayed.eml" "scan --json --quiet"; do
    for v in $((min - 1)):20 $((cur + 1)):21 $cur:0 $min:0; do
        n=${v%:*} want=${v#*:}
        rc=0
        # shellcheck disable=SC2086 # the command and its arguments
        "$BW_BIN" $cmd --format-version="$n" >"$BW_TMP/out" 2>"$BW_TMP/err" || rc=$?
        bw_expect_eq "${cmd%% *} --format-version=$n: exit" "$rc" "$want"
        if [ "$want" -ne 0 ]; then
            bw_expect_eq "${cmd%% *} --format-version=$n: nothing written" "$(wc -c <"$BW_TMP/out")" 0
            bw_expect_eq "${cmd%% *} --format-version=$n: one line saying why" "$(grep -c "format version $n" "$BW_TMP/err")" 1
        else
            bw_expect_eq "${cmd%% *} --format-version=$n: that version" \
                "$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["format_version"])' "$BW_TMP/out")" "$n"
        fi
    done
done

# Every key written is documented (the page's macro lines name the fields).
python3 - "$BW_TMP/scan.json" "$BW_TMP/parse.jsonl" "$page7" <<'EOF' || bw_fail_count=$((bw_fail_count + 1))
import json, re, sys
scan, parse, page = sys.argv[1:4]
words = set()
for line in open(page, encoding="utf-8"):
    if line.startswith("."):
        words.update(re.findall(r"[a-z][a-z_]*", line.replace("\\-", "-")))
keys = {}
def walk(v, where):
    if isinstance(v, dict):
        for k, x in v.items():
            keys.setdefault(k, where)
            walk(x, where)
    elif isinstance(v, list):
        for x in v:
            walk(x, where)
doc = json.load(open(scan))
for part in ("bounces", "campaigns", "surges"):
    if not doc.get(part):
        print("FAIL: the test mailbox gave no %s: the check below misses their keys" % part)
        sys.exit(1)
walk(doc, "scan --json")
for line in open(parse):
    walk(json.loads(line), "parse --json")
missing = sorted(k for k in keys if k not in words)
for k in missing:
    print("FAIL: %s writes \"%s\", which bouncewatch-json(7) does not document" % (keys[k], k))
sys.exit(1 if missing else 0)
EOF
bw_done
