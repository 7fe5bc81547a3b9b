#!/bin/sh
# scan-identity.sh: whether two builds give the same `scan --json` on the
# nine public scenarios: a full scan with an empty state, then the next run
# (answered from the state the first one stored).  For a change meant to be
# a pure speed change (issue 10: the output stays byte-identical to the
# parent).
#
#   bench/scan-identity.sh [--scenarios DIR] [--scale K] OLD NEW
#
# OLD and NEW are `bouncewatch` programs (each with its reader and modules
# next to it, as in a build tree).  The scenarios are made by the shared
# scenarios/gen.py (seeds 101-109, public templates, scale 1 by default)
# into a temporary directory, or taken from DIR (DIR/NAME, as made before:
# nothing there is changed).  Each build runs on its own copy of each
# mailbox, with a private state and no session bus; the copy's directory
# is replaced by DIR in the output before the comparison.
#
# Exit status: 0 when all 18 outputs (and exit codes) are the same (also
# when the shared material is absent: skipped), 1 when one differs, 64 on a
# usage error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
scen_dir=""
scale=1
while [ $# -gt 0 ]; do
    case "$1" in
        --scenarios) scen_dir=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "scan-identity.sh: unknown option '$1' (try --help)" >&2; exit 64 ;;
        *) break ;;
    esac
done
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "scan-identity.sh: give two bouncewatch programs: OLD NEW (try --help)" >&2
    exit 64
fi
old=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
new=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
shared=$("$here/shared-dir.sh" || true)
scenarios="calm:101 spoofing:102 compromise:103 no-sent-copies:104 newsletter:105 catchall:106 mixed:107 quiet-compromise:108 security-noise:109"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-scan-identity.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ -z "$scen_dir" ]; then
    if [ ! -f "$shared/scenarios/gen.py" ]; then
        echo "scan-identity.sh: SKIP: $shared/scenarios/gen.py not found (the shared material is absent)"
        exit 0
    fi
    scen_dir=$tmp/scenarios
    for s in $scenarios; do
        python3 "$shared/scenarios/gen.py" --scenario "${s%:*}" --seed "${s#*:}" --scale "$scale" \
            --templates public --out "$scen_dir/${s%:*}" >"$tmp/gen.log" 2>&1 \
            || { echo "scan-identity.sh: gen.py failed for ${s%:*}:" >&2; cat "$tmp/gen.log" >&2; exit 1; }
    done
fi
same=0
differ=0
for s in $scenarios; do
    name=${s%:*}
    [ -f "$scen_dir/$name/notmuch-config" ] \
        || { echo "scan-identity.sh: $scen_dir/$name/notmuch-config not found; make the scenarios with gen.py or leave out --scenarios" >&2; exit 64; }
    for which in old new; do
        prog=$old
        [ "$which" = new ] && prog=$new
        d=$tmp/$which-$name
        cp -a "$scen_dir/$name" "$d"
        sed -i "s|$scen_dir/$name|$d|g" "$d/notmuch-config"
        for run in 1 2; do
            rc=0
            env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u WAYLAND_DISPLAY HOME="$d/home" \
                XDG_RUNTIME_DIR="$d/run" XDG_STATE_HOME="$d/state" XDG_CONFIG_HOME="$d/config" \
                XDG_CACHE_HOME="$d/cache" XDG_DATA_HOME="$d/data" NOTMUCH_CONFIG="$d/notmuch-config" \
                "$prog" scan --json >"$tmp/$which-$name.$run.json" 2>/dev/null || rc=$?
            echo "$rc" >>"$tmp/$which-$name.$run.json"
            sed -i "s|$d|DIR|g" "$tmp/$which-$name.$run.json"
        done
    done
    for run in 1 2; do
        if cmp -s "$tmp/old-$name.$run.json" "$tmp/new-$name.$run.json"; then
            same=$((same + 1))
        else
            differ=$((differ + 1))
            echo "different: $name, run $run"
        fi
    done
    rm -rf "$tmp/old-$name" "$tmp/new-$name"
done
echo "scan-identity.sh: $same identical, $differ different"
[ "$differ" -eq 0 ]
