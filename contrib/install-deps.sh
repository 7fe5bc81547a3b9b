#!/bin/sh
# install-deps.sh: install every Debian/Ubuntu package needed to build, test
# and run bouncewatch (and, with --bench, to run the benchmarks).
#
#   contrib/install-deps.sh            build + test + run dependencies
#   contrib/install-deps.sh --bench    ... plus Sisimai, flufl.bounce, hyperfine...
#   contrib/install-deps.sh --list     print the package names and exit
#
# Idempotent: when everything is installed already it changes nothing and
# needs no network.  Runs as root, or through sudo when that exists.
set -eu

# Build: the autotools chain (autopoint for gettext), the compiler, and the
# -dev packages configure.ac checks for.  clang and its runtime libraries
# build the libFuzzer target and the sanitizer build of .ci/run.
BUILD="autoconf automake libtool autopoint pkg-config gettext make gcc clang
 libglib2.0-dev libgmime-3.0-dev libsodium-dev libnotify-dev libjson-glib-dev
 libsqlite3-dev libnotmuch-dev libxapian-dev libxxhash-dev check xz-utils g++"
# Test and run: notmuch itself (the e2e tests build real databases), a D-Bus
# session with a mock notification server (python3-dbusmock), the mail
# clients the plugins are tested in (with notmuch-emacs), notify-send, sqlite3 for
# looking at the state store, locales for the Japanese report test.
TEST="notmuch python3 python3-dbusmock dbus dbus-x11 libnotify-bin tmux neomutt
 emacs-nox elpa-notmuch aerc alot sqlite3 time locales"
# Benchmarks only: the parsers we compare against, timers and profilers.
BENCH="libsisimai-perl python3-flufl.bounce hyperfine time valgrind"

want_bench=no
list_only=no
for arg in "$@"; do
    case "$arg" in
        --bench) want_bench=yes ;;
        --list) list_only=yes ;;
        -h|--help)
            sed -n '2,10s/^# \{0,1\}//p' "$0"
            exit 0 ;;
        *)
            echo "install-deps.sh: unknown option '$arg' (try --help)" >&2
            exit 64 ;;
    esac
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps.sh: apt-get not found; this script knows Debian/Ubuntu only." >&2
    echo "Install the equivalents of: $BUILD $TEST" >&2
    exit 1
fi

# The compiler-rt package (libFuzzer, ASan, UBSan runtimes) is split out of
# clang since LLVM 14 in Debian; its name follows the default clang version.
# On a fresh image the package lists are empty and apt-cache knows nothing:
# then the probe is repeated after apt-get update.
find_rt() {
    RT=""
    for cand in libclang-rt-dev libclang-rt-14-dev; do
        if apt-cache show "$cand" >/dev/null 2>&1; then RT="$cand"; return 0; fi
    done
    return 1
}
have_lists=yes
find_rt || have_lists=no

set_pkgs() {
    PKGS="$BUILD $TEST $RT"
    if [ "$want_bench" = yes ]; then PKGS="$PKGS $BENCH"; fi
}
set_pkgs

if [ "$list_only" = yes ]; then
    # shellcheck disable=SC2086 # word splitting wanted: one line of names
    echo $PKGS
    exit 0
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ] && [ "$have_lists" = yes ]; then
    # shellcheck disable=SC2086
    echo "install-deps.sh: all $(echo $PKGS | wc -w) packages are installed already."
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps.sh: not root and no sudo; run as root. Missing:$missing" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
if [ "$have_lists" = no ] && find_rt; then
    missing="$missing $RT"
    set_pkgs
fi
echo "install-deps.sh: installing$missing"
# --no-install-recommends keeps a CI image small (emacs-nox alone would pull
# in hundreds of megabytes of recommendations).
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "install-deps.sh: done."
