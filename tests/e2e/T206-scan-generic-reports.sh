#!/bin/bash
# T206-scan-generic-reports: the notices of servers no vendor table knows
# (tests/corpus/generic), challenges, virus notices and complaints
# (tests/corpus/kinds) and the tolerance fixtures, delivered into a real
# notmuch mailbox beside the ordinary mail of tests/corpus/ham-stress: the
# scan's candidate query (`scan --print-query`) lets every report through,
# and `scan --json` lists each of them with its kind and none of the
# ordinary mail.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
bw_require_bin
bw_require_cmd notmuch python3
bw_tmpdir
bw_fail_count=0

C="$BW_SRCDIR/tests/corpus"
MD="$BW_TMP/mail"
mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
n=0
for f in "$C"/generic/*.eml "$C"/kinds/*.eml "$C"/tolerance/*.eml "$C"/ham-stress/*.eml; do
    n=$((n + 1))
    # copied as they are (the tolerance fixtures' first bytes matter); the
    # maildir name maps back to the fixture
    cp "$f" "$MD/cur/$n.fixture:2,S"
    echo "$f" >"$BW_TMP/name.$n"
done
bw_notmuch_setup "$MD" alice@example.org

notmuch search --exclude=false --output=files '*' >"$BW_TMP/indexed"
query=$("$BW_BIN" scan --print-query)
notmuch search --exclude=false --output=files "$query" >"$BW_TMP/candidates"
"$BW_BIN" scan --json >"$BW_TMP/scan.json" || true

python3 - "$BW_TMP" "$n" "$BW_TMP/candidates" "$BW_TMP/scan.json" "$BW_TMP/indexed" <<'EOF'
import json, os, sys
tmp, n, cand_path, scan_path, indexed_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
cands = {os.path.basename(l.strip()) for l in open(cand_path) if l.strip()}
indexed = {os.path.basename(l.strip()) for l in open(indexed_path) if l.strip()}
doc = json.load(open(scan_path))
listed = {os.path.basename(b["file"]): b for b in doc.get("bounces", [])}
fails = 0
for i in range(1, n + 1):
    name = open(os.path.join(tmp, "name.%d" % i)).read().strip()
    base = "%d.fixture:2,S" % i
    sidecar = name[:-4] + ".json"
    want = json.load(open(sidecar)) if os.path.exists(sidecar) else {"bounce": False}
    if base not in indexed:
        # a file notmuch itself does not take for mail never reaches a scan
        if "/tolerance/" not in name:
            print("FAIL: notmuch did not index %s" % name)
            fails += 1
        continue
    if want["bounce"]:
        if base not in cands:
            print("FAIL: the candidate query misses %s" % name)
            fails += 1
        elif base not in listed:
            print("FAIL: scan --json does not list %s" % name)
            fails += 1
        else:
            fam = lambda k: "failure" if k in ("dsn", "bounce") else k
            if fam(listed[base]["kind"]) != fam(want["kind"]):
                print("FAIL: %s listed as %s, want %s" % (name, listed[base]["kind"], want["kind"]))
                fails += 1
    elif base in listed:
        print("FAIL: ordinary mail listed as a report: %s" % name)
        fails += 1
sys.exit(1 if fails else 0)
EOF
[ $? -eq 0 ] || bw_fail_count=$((bw_fail_count + 1))
bw_done
