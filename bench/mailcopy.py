"""mailcopy: a copy of a mail file that notmuch takes for a new message.

The benchmarks add "new" mail by copying messages of a mailbox under a new
Message-ID.  Only the message's own header counts: a report without a
Message-ID of its own carries its original's in an attached part, and
rewriting that one left the copy without an id, which notmuch then names
by a digest of the headers -- the same as the source's, so the "new"
message was a second file of an old one (engine-figures' hook-new10 paid
the path of a possibly removed message once in seven runs for it).  A
header without a Message-ID gets one.

scenario_copy(): the private copy of a scenario mailbox (shared/scenarios/
gen.py) that the exactness scripts work on, and the environment of a run
on it."""
import os
import re
import shutil

_ID = re.compile(rb"(?im)^(message-id:[ \t]*(?:\r?\n[ \t]+)?<)")


def with_new_id(raw, prefix):
    """raw (bytes) with its own Message-ID made unique by `prefix` (bytes)."""
    m = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[:m.start()], raw[m.start():]) if m else (raw, b"")
    head, n = _ID.subn(lambda g: g.group(1) + prefix + b".", head, count=1)
    if n == 0:
        eol = b"\r\n" if b"\r\n" in head or (m and m.group().startswith(b"\r")) else b"\n"
        head = b"Message-ID: <" + prefix + b"@bench.invalid>" + eol + head
    return head + body


def now_of(d):
    """The "now" of the scenario mailbox d (near the top of its truth.json)."""
    with open(os.path.join(d, "truth.json")) as f:
        return re.search(r'"now":\s*"([^"]+)"', f.read(65536)).group(1)


def scenario_copy(d, tmp, extra_config=""):
    """Copies the scenario mailbox d to tmp/box, its notmuch-config pointed at
    the copy (extra_config appended): (box, the config's text, the
    environment of a run on it: that config, the scenario's "now", no
    session bus)."""
    box = os.path.join(tmp, "box")
    shutil.copytree(d, box, symlinks=True)
    cfg = os.path.join(box, "notmuch-config")
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r"(?m)^path=.*$", "path=" + os.path.join(box, "mail"), text) + extra_config
    with open(cfg, "w") as f:
        f.write(text)
    env = dict(os.environ, NOTMUCH_CONFIG=cfg, BOUNCEWATCH_NOW=now_of(d), LC_ALL="C.UTF-8",
               DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bw")
    return box, text, env
