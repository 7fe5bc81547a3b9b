#!/bin/bash
# make-seeds.sh: seeds for a fuzz target, made from the project's own
# fixtures (tests/corpus/, tests/fixtures/make-mailbox.py), so that a new
# fixture is a new seed without copying it here.
#
#   tests/fuzz/make-seeds.sh TARGET OUTDIR
#
#   parse    every message of tests/corpus/ as it is
#   headers  the header block of every message of tests/corpus/ and of the
#            messages and header parts attached to them
#   notice   the JSON notices found in tests/corpus/ (a line that starts
#            with '{' and names a notificationType)
#   engine   small mailboxes: each directory of tests/corpus/ as one input
#            (pieces separated by "%%" lines), and the mailboxes of
#            make-mailbox.py (calm, flood, compromise, newsletter, nosent:
#            sent mail, ham and reports together)
#   signals  every message of tests/corpus/signals/ as it is, and the
#            whole directory as one mbox ("From " lines between messages)
# Other targets get nothing here (their seeds are tests/fuzz/seeds/NAME/).
# Files over 200 KB are left out (the targets' -max_len).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: make-seeds.sh TARGET OUTDIR" >&2
    exit 64
fi
target=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
corpus=$top/tests/corpus
mkdir -p "$out"
[ -d "$corpus" ] || exit 0

# A stable, unique name for a seed made from a path.
seed_name() {
    printf '%s-%s' "$1" "$(printf '%s' "$2" | md5sum | cut -c1-12)"
}

corpus_files() {
    find "$corpus" -type f -size -200k \( -name '*.eml' -o -name '*.mbox' -o -name '*.txt' \) -print0 |
        sort -z
}

case "$target" in
parse)
    corpus_files | while IFS= read -r -d '' f; do
        cp "$f" "$out/$(seed_name corpus "$f")"
    done
    ;;
headers)
    corpus_files | while IFS= read -r -d '' f; do
        # the message's header block, then each block that follows a
        # message/rfc822 or text/rfc822-headers part header
        awk -v base="$out/$(seed_name hdr "$f")" '
            BEGIN { n = 0; file = base "-0"; inblock = 1 }
            { sub(/\r$/, "") }
            inblock {
                if ($0 == "") { inblock = 0; close(file); next }
                print > file
                next
            }
            tolower($0) ~ /^content-type:[ \t]*(message\/(rfc822|global)|text\/rfc822-headers)/ { want = 1; next }
            want && $0 == "" { want = 0; n++; file = base "-" n; inblock = 1; next }
        ' "$f"
    done
    find "$out" -name 'hdr-*' -size 0 -delete
    ;;
notice)
    corpus_files | while IFS= read -r -d '' f; do
        { grep -a '^{.*"notificationType"' "$f" 2>/dev/null || true; } | head -n 20 | {
            i=0
            while IFS= read -r line; do
                printf '%s' "$line" > "$out/$(seed_name notice "$f")-$i"
                i=$((i + 1))
            done
        }
    done
    ;;
engine)
    # each directory of the corpus as one small mailbox
    find "$corpus" -type d -print0 | sort -z | while IFS= read -r -d '' d; do
        mapfile -d '' files < <(find "$d" -maxdepth 1 -type f -name '*.eml' -size -64k -print0 | sort -z)
        [ ${#files[@]} -gt 0 ] || continue
        dest="$out/$(seed_name dir "$d")"
        first=yes
        for f in "${files[@]}"; do
            [ "$first" = yes ] || printf '\n%%%%\n' >> "$dest"
            first=no
            cat "$f" >> "$dest"
        done
    done
    # the e2e fixture mailboxes: sent mail, ham and reports
    if command -v python3 >/dev/null 2>&1 && [ -f "$top/tests/fixtures/make-mailbox.py" ]; then
        tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-seeds.XXXXXX")
        for kind in calm flood compromise newsletter nosent; do
            python3 "$top/tests/fixtures/make-mailbox.py" "$kind" "$tmp/$kind" >/dev/null 2>&1 || continue
            dest="$out/mailbox-$kind"
            first=yes
            while IFS= read -r -d '' f; do
                [ "$first" = yes ] || printf '\n%%%%\n' >> "$dest"
                first=no
                cat "$f" >> "$dest"
            done < <(find "$tmp/$kind" -type f -path '*/cur/*' -print0 | sort -z)
            # an input past the target's -max_len would be cut: keep the head
            if [ "$(stat -c %s "$dest")" -gt 190000 ]; then
                head -c 190000 "$dest" > "$dest.cut" && mv "$dest.cut" "$dest"
            fi
        done
        rm -rf "$tmp"
    fi
    ;;
signals)
    if [ -d "$corpus/signals" ]; then
        dest="$out/signals-all"
        : > "$dest"
        while IFS= read -r -d '' f; do
            cp "$f" "$out/$(seed_name signal "$f")"
            printf 'From fuzz@example Thu Jan  1 00:00:00 2026\n' >> "$dest"
            cat "$f" >> "$dest"
            printf '\n' >> "$dest"
        done < <(find "$corpus/signals" -maxdepth 1 -type f -name '*.eml' -size -64k -print0 | sort -z)
    fi
    ;;
esac
exit 0
