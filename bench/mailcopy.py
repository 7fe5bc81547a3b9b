"""mailcopy: a copy of a mail file that notmuch takes for a new message.

The benchmarks add "new" mail by copying messages of a mailbox under a new
Message-ID.  Only the message's own header counts: a report without a
Message-ID of its own carries its original's in an attached part, and
rewriting that one left the copy without an id, which notmuch then names
by a digest of the headers -- the same as the source's, so the "new"
message was a second file of an old one (engine-figures' hook-new10 paid
the path of a possibly removed message once in seven runs for it).  A
header without a Message-ID gets one."""
import re

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
