#!/bin/sh
# bench/agent-memory.sh: the agent's memory over many incremental cycles,
# and its CPU use when idle.
#
#   bench/agent-memory.sh [CYCLES] [IDLE_SECONDS]     (defaults 1000, 20)
#   BW_BIN=path/to/bouncewatch (default ./bouncewatch)
#
# Builds the demo mailbox in a temporary directory, starts `bouncewatch
# watch` on a private D-Bus session (python3-dbusmock's notification daemon,
# so alerts really go out), then CYCLES times: writes one new message (every
# tenth one a bounce of the spoofing flood, the rest ordinary mail), runs
# `notmuch new`, asks the agent to rescan over D-Bus and waits for the scan.
# Prints VmRSS at a few points, then the CPU time the agent used while idle.
# BW_BENCH_ADD_MAIL=0: the same cycles with no new mail (the pure cost of a
# wake-up), to tell growth of the mailbox from growth of the agent;
# BW_BENCH_ADD_MAIL=N: new mail in the first N cycles only, then wake-ups
# (RSS must stop growing when the mailbox does).
# Memory is "flat" when RSS stops growing after the first cycles (the state
# and caches reach their size); it must not grow with the cycle count.
set -eu
cycles=${1:-1000}
idle=${2:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${BW_BIN:-$(pwd)/bouncewatch}
[ -x "$bin" ] || { echo "agent-memory: build first or set BW_BIN" >&2; exit 1; }
PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import dbusmock, dbus' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "agent-memory: needs python3-dbusmock" >&2; exit 77; }
command -v notmuch >/dev/null || { echo "agent-memory: needs notmuch" >&2; exit 77; }

if [ "${BW_AGENT_MEMORY_INNER:-}" != 1 ]; then
    BW_AGENT_MEMORY_INNER=1 exec dbus-run-session -- sh "$0" "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bw-agent-memory.XXXXXX")
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache"
export NOTMUCH_CONFIG="$tmp/notmuch-config"
mkdir -p "$HOME"
mail="$tmp/mail"
cat >"$NOTMUCH_CONFIG" <<EOF
[database]
path=$mail
[user]
primary_email=alex@example.org
EOF
"$PY" "$here/contrib/demo/build-mailbox.py" "$mail" --base --flood 40
notmuch new --quiet --no-hooks

"$PY" -m dbusmock --template notification_daemon >"$tmp/mock.log" 2>&1 &
mock=$!
agent=
trap 'kill $agent $mock 2>/dev/null; rm -rf "$tmp"' EXIT
"$PY" "$here/tests/e2e/notify-mock.py" wait-name org.freedesktop.Notifications 10
# Default settings, as in real use: the file monitor with its 2 s debounce
# and the 5-minute poll; the cycles are driven over D-Bus, and the monitor
# adds a scan of its own now and then.
# BW_AGENT_WRAPPER: e.g. "valgrind --leak-check=full" to look for leaks.
${BW_AGENT_WRAPPER:-} "$bin" watch -v 2>"$tmp/agent.log" &
agent=$!
"$PY" "$here/tests/e2e/notify-mock.py" wait-name org.bouncewatch.Agent 60

rc=0
"$PY" - "$agent" "$cycles" "$idle" "$mail" "$here" <<'EOF' || rc=$?
import os, subprocess, sys, time
import dbus
pid, cycles, idle, mail, here = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
sys.path.insert(0, os.path.join(here, "contrib", "demo"))
bus = dbus.SessionBus()
agent = bus.get_object("org.bouncewatch.Agent", "/org/bouncewatch/Agent")
props = dbus.Interface(agent, "org.freedesktop.DBus.Properties")
rescan = agent.get_dbus_method("Rescan", "org.bouncewatch.Agent")

def done():
    return int(props.Get("org.bouncewatch.Agent", "Cycles"))

def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def cpu_ticks():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime

ordinary = open(os.path.join(here, "contrib", "demo", "templates", "ordinary-1.eml")).read()
marks = {1, 10, 100, 250, 500, 750, cycles} | set(range(1000, cycles + 1, 1000))
start = time.time()
add_mail = os.environ.get("BW_BENCH_ADD_MAIL", "")
mail_cycles = cycles if add_mail in ("", "1") else int(add_mail)
marks |= {mail_cycles, mail_cycles + 1}
for i in range(1, cycles + 1):
    if i > mail_cycles:
        pass
    elif i % 10 == 0:  # a bounce of the flood
        subprocess.run([sys.executable, os.path.join(here, "contrib", "demo", "build-mailbox.py"),
                        mail, "--flood", "1", "--flood-start", str(1000 + i)], check=True)
    else:
        t = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        text = ordinary.replace("{date}", t).replace("{msgid}", "bench%d@example.net" % i)
        with open(os.path.join(mail, "new", "bench-%06d" % i), "w") as f:
            f.write(text)
    subprocess.run(["notmuch", "new", "--quiet", "--no-hooks"], check=True)
    before = done()
    rescan()
    t0 = time.time()
    while done() <= before:
        if time.time() - t0 > 30:
            sys.exit("agent did not scan within 30 s")
        time.sleep(0.002)
    if i in marks:
        print("cycle %5d  VmRSS %6d kB" % (i, rss_kb()), flush=True)
print("%d cycles in %.1f s (%d scans in all, with the monitor's own)"
      % (cycles, time.time() - start, done()))
# Let a pending debounce (2 s) fire: idle means after the last change.
time.sleep(3)
c0 = cpu_ticks()
time.sleep(idle)
c1 = cpu_ticks()
hz = os.sysconf("SC_CLK_TCK")
print("idle %d s: %d CPU ticks (%.3f s of CPU)" % (idle, c1 - c0, (c1 - c0) / hz))
EOF
if [ "$rc" -ne 0 ]; then
    echo "agent-memory: failed; the agent's log ends with:" >&2
    tail -n 20 "$tmp/agent.log" >&2
    exit "$rc"
fi
kill -TERM "$agent"
wait "$agent" || true
agent=
if [ -n "${BW_AGENT_WRAPPER:-}" ]; then
    grep -E 'definitely|indirectly|possibly|ERROR SUMMARY' "$tmp/agent.log" || true
    cp "$tmp/agent.log" "${TMPDIR:-/tmp}/bw-agent-memory.log"
fi
