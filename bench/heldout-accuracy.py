#!/usr/bin/env python3
"""bench/heldout-accuracy.py: bouncewatch beside Sisimai and flufl.bounce on
corpora of other projects, scored against those projects' own expectations.

    bench/heldout-accuracy.py [--bin PATH] [--list N] [--json] [DIR...]

Each DIR is a directory of messages.  Its reference is found next to it:
  * Mail::DeliveryStatus::BounceParser layout (DIR = .../t/corpus, the test
    scripts .../t/*.t and TestBounceParser.pm beside it): the test scripts
    themselves are the reference.  They are run unchanged (perl -T) against
    a stand-in Mail::DeliveryStatus::BounceParser that answers with one
    tool's reading of the same file, so every expectation is checked
    exactly as its author wrote it; the assertions are grouped per file.
  * flufl.bounce layout (DIR = .../tests/data, ../test_detectors.py beside
    it): the addresses listed for each file in flufl.bounce's test DATA
    (testing/helpers.py) and in test_detectors.py.
  * anything else: every message counts as a report; detection only.
Without DIR, the two sets kept aside on the development machine are used
(/work/heldout/Mail-DeliveryStatus-BounceParser-*/t/corpus and
flufl.bounce's installed test data) when present; a missing set is skipped
with a note, and the script exits 0 (the project's tests never need them).

Measures, per set and tool (the issue's target: each >= max(best other, 99%)):
  detection   files whose "is it a failure report?" agrees with the
              reference (BounceParser's is_bounce, true or false; for
              flufl's data, a failure read in every file listing addresses)
  recipients  files whose failed addresses agree with the reference
              (case-insensitively; BounceParser: every address assertion
              of the file passes)
What counts as "a failure report" for each tool (the references mean a
delivery failure, not an auto-reply, a challenge or a mere delay):
  bouncewatch  bounce true, kind dsn or bounce, and not every recipient
               only delayed/delivered/relayed/expanded; the addresses are
               the recipients' (a DSN's `original_address` when it gives
               one, as BounceParser prefers Original-Recipient by default)
  Sisimai      Sisimai->make gives a record whose reason is not vacation,
               delivered or feedback and whose action is not delayed
  flufl        all_failures() gives a permanent failure; the addresses are
               its permanent and temporary ones
On flufl.bounce's data bouncewatch's addresses are read as flufl.bounce's
detectors list them: a DSN's Original-Recipient (else Final-Recipient),
and for a plain notice every address it names (`address` and the
`original_address` it was expanded from).
The stand-in never parses anything itself.  Tools that are not installed
are left out (apt-get install libsisimai-perl python3-flufl.bounce).
"""
import argparse
import ast
import collections
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)
PY = "/usr/bin/python3"     # Debian's flufl.bounce is for the system interpreter

DEFAULT_SETS = sorted(glob.glob("/work/heldout/Mail-DeliveryStatus-BounceParser-*/t/corpus")) + [
    "/usr/lib/python3/dist-packages/flufl/bounce/tests/data"]

SISIMAI_PL = r'''
use strict; use warnings;
use Sisimai; use JSON::PP;
my $json = JSON::PP->new->canonical;
while (my $f = <STDIN>) {
    chomp $f;
    my ($fail, @addr) = (0);
    my $v = eval { Sisimai->make($f, 'delivered' => 1) };
    for my $r (@{ $v || [] }) {
        my $reason = $r->reason // '';
        my $action = $r->action // '';
        next if $reason eq 'delivered';
        push @addr, lc($r->recipient->address) if $r->recipient;
        $fail = 1 if $reason ne 'vacation' && $reason ne 'feedback' && $action ne 'delayed';
    }
    print $json->encode({ file => $f, is_bounce => $fail, addresses => \@addr }), "\n";
}
'''

FLUFL_PY = r'''
import email, json, sys
from flufl.bounce import all_failures
for line in sys.stdin:
    path = line.rstrip("\n")
    with open(path, "rb") as fh:
        msg = email.message_from_binary_file(fh)
    try:
        temp, perm = all_failures(msg)
    except Exception:
        temp, perm = set(), set()
    dec = lambda s: (s.decode("utf-8", "replace") if isinstance(s, bytes) else s).lower()
    print(json.dumps({"file": path, "is_bounce": bool(perm),
                      "addresses": sorted({dec(a) for a in perm | temp})}))
'''

# The stand-in for Mail::DeliveryStatus::BounceParser: answers from a table
# (MD5 of the message text -> one tool's reading), and says which file each
# object is about as a TAP comment so the assertions can be grouped.
SHIM_PM = r'''
package Mail::DeliveryStatus::BounceParser;
use strict; use warnings;
use Digest::MD5 qw(md5_hex);
use JSON::PP;
our $VERSION = '0';
my $answers;
sub _answers {
    return $answers if $answers;
    my ($path) = ($ENV{BW_HELDOUT_ANSWERS} // '') =~ /\A(.+)\z/;
    open my $fh, '<', $path or die "heldout shim: $path: $!";
    local $/; my $t = <$fh>; close $fh;
    $answers = JSON::PP->new->decode($t);
    return $answers;
}
sub new {
    my ($class, $message, $opt) = @_;
    $message = ref $message eq 'SCALAR' ? $$message : "$message";
    my $a = _answers()->{ md5_hex($message) } // { file => 'unknown', is_bounce => 0,
                                                   addresses => [], final => [] };
    $| = 1;
    print STDOUT "# heldout-file: $a->{file}\n";
    my @addr = @{ ($opt && $opt->{prefer_final_recipient}) ? $a->{final} : $a->{addresses} };
    return bless { a => $a, addr => \@addr }, $class;
}
sub is_bounce { $_[0]{a}{is_bounce} ? 1 : 0 }
sub addresses { my @l = @{ $_[0]{addr} }; wantarray ? @l : scalar @l }
sub reports {
    my $self = shift;
    my @r = map { Mail::DeliveryStatus::BounceParser::Report->new($_) } @{ $self->{addr} };
    @r = (Mail::DeliveryStatus::BounceParser::Report->new(undef)) unless @r;
    return @r;
}
sub orig_message_id { my $m = $_[0]{a}{message_id}; defined $m ? "<$m>" : undef }
sub orig_message { Mail::DeliveryStatus::BounceParser::Report->new(undef) }
sub orig_header { Mail::DeliveryStatus::BounceParser::Report->new(undef) }
sub orig_text { '' }
sub log { }
package Mail::DeliveryStatus::BounceParser::Report;
sub new { my ($c, $addr) = @_; bless { email => $addr }, $c }
sub get { my ($s, $k) = @_; return lc($k) eq 'email' ? $s->{email} : undef }
sub as_string { '' }
1;
'''

# Assertions whose own test script says they document a bug, not what the
# message is: is_bounce => 1 for a spam message the comment calls "a
# non-bounce spam message" (bouncewatch, rightly, reads none of them as a
# report).  Reported apart: figures are given with and without them.
QUIRKS = {
    "spam-bogus-email-in-report.msg": "t/spam-bogus-email-in-report.t: 'a non-bounce spam message is parsed as a bounce'",
    "spam-with-image.msg": "t/spam-with-image.t: spam whose image attachments were parsed as reports (bug #20751)",
}

DETECTION_TESTS = re.compile(r"is_bounce is correct|it's a bounce, alright|^This is (not )?a bounce$")
RECIPIENT_TESTS = re.compile(r"addresses are correct|found correct number of addresses|"
                             r"right bounced address is given|prefer original to final recipient|"
                             r"request preference for final|Found at least one email address")


def md5_of(path):
    with open(path, "rb") as fh:
        return hashlib.md5(fh.read()).hexdigest()


def find_bin(given):
    for cand in (given, os.environ.get("BW_BIN"), os.path.join(SRCDIR, "build", "bouncewatch"),
                 os.path.join(SRCDIR, "bouncewatch"), shutil.which("bouncewatch")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def read_bouncewatch(binary, files):
    out = {}
    proc = subprocess.run([binary, "parse", "--json", "--"] + files,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        f = obj.get("file")
        if f in out:            # an mbox: its first message is the one
            continue
        rcpts = obj.get("recipients") or []
        kind = obj.get("kind")
        only_delay = bool(rcpts) and all(
            (r.get("action") or "failed") in ("delayed", "delivered", "relayed", "expanded") for r in rcpts)
        failure = bool(obj.get("bounce")) and kind in ("dsn", "bounce") and not only_delay
        # a DSN's Original-Recipient first, as BounceParser by default
        addrs = [((r.get("original_address") if kind == "dsn" else None) or r.get("address") or "").lower()
                 for r in rcpts if (r.get("action") or "failed") != "delivered"]
        final = [(r.get("address") or "").lower() for r in rcpts
                 if (r.get("action") or "failed") != "delivered"]
        # what flufl.bounce's detectors list: a DSN's Original-Recipient
        # (else Final-Recipient); every address a plain notice names
        # (the one tried and the one it was expanded from)
        if kind == "dsn":
            named = addrs
        else:
            named = [(r.get("address") or "").lower() for r in rcpts] + \
                    [(r.get("original_address") or "").lower() for r in rcpts]
        out[f] = {"is_bounce": failure, "addresses": [a for a in addrs if a],
                  "final": [a for a in final if a], "named": sorted({a for a in named if a}), "kind": kind,
                  "message_id": (obj.get("original") or {}).get("message_id")}
    return out


def read_tool(cmd, script, files):
    out = {}
    with tempfile.NamedTemporaryFile("w", suffix=".script", delete=False) as fh:
        fh.write(script)
        sp = fh.name
    try:
        proc = subprocess.run(cmd + [sp], input="\n".join(files) + "\n", text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        os.unlink(sp)
    for line in proc.stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        obj["final"] = obj["addresses"]
        out[obj["file"]] = obj
    return out


def tools_available():
    tools = ["bouncewatch"]
    if subprocess.run(["perl", "-MSisimai", "-MJSON::PP", "-e1"], stderr=subprocess.DEVNULL).returncode == 0:
        tools.append("sisimai")
    else:
        print("heldout-accuracy: Sisimai not installed (apt-get install libsisimai-perl): not compared")
    if os.path.exists(PY) and subprocess.run([PY, "-c", "import flufl.bounce"],
                                             stderr=subprocess.DEVNULL).returncode == 0:
        tools.append("flufl")
    else:
        print("heldout-accuracy: flufl.bounce not installed (apt-get install python3-flufl.bounce): not compared")
    return tools


def read_all(tool, binary, files):
    if tool == "bouncewatch":
        return read_bouncewatch(binary, files)
    if tool == "sisimai":
        return read_tool(["perl"], SISIMAI_PL, files)
    return read_tool([PY], FLUFL_PY, files)


# ------------------------------------------------------------ references

def bounceparser_cases(corpus, readings, workdir):
    """Runs the BounceParser test scripts against one tool's readings.
    Returns {file: {"detection": [bool...], "recipients": [bool...]}}."""
    tdir = os.path.dirname(corpus)
    top = os.path.dirname(tdir)
    shim = os.path.join(workdir, "shim", "Mail", "DeliveryStatus")
    os.makedirs(shim, exist_ok=True)
    with open(os.path.join(shim, "BounceParser.pm"), "w") as fh:
        fh.write(SHIM_PM)
    answers = {}
    for path, r in readings.items():
        answers[md5_of(path)] = dict(r, file=os.path.basename(path))
    ans_path = os.path.join(workdir, "answers.json")
    with open(ans_path, "w") as fh:
        json.dump(answers, fh)
    cases = collections.defaultdict(lambda: {"detection": [], "recipients": []})
    env = dict(os.environ, BW_HELDOUT_ANSWERS=ans_path)
    for t in sorted(glob.glob(os.path.join(tdir, "*.t"))):
        with open(t, encoding="utf-8", errors="replace") as fh:
            src = fh.read()
        if "BounceParser" not in src or "corpus" not in src:
            continue
        proc = subprocess.run(["perl", "-T", "-I", os.path.join(workdir, "shim"), t], cwd=top, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        current = None
        for line in proc.stdout.splitlines():
            s = line.strip()
            m = re.match(r"# heldout-file: (.*)$", s)
            if m:
                current = m.group(1)
                continue
            m = re.match(r"(not ok|ok) \d+(?: - (.*?))?(?: # TODO.*)?$", s)
            if not m or current is None:
                continue
            name = m.group(2) or ""
            ok = m.group(1) == "ok"
            if DETECTION_TESTS.search(name):
                cases[current]["detection"].append(ok)
            elif RECIPIENT_TESTS.search(name):
                cases[current]["recipients"].append(ok)
    return cases


def flufl_reference(data_dir):
    """{file: set(addresses)} from flufl.bounce's own tests."""
    helpers = os.path.join(os.path.dirname(os.path.dirname(data_dir)), "testing", "helpers.py")
    ref = collections.defaultdict(set)
    listed = set()
    if os.path.exists(helpers):
        tree = ast.parse(open(helpers, encoding="utf-8").read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DATA" for t in node.targets):
                for entry in ast.literal_eval(node.value):
                    fname, addrs = entry[1], entry[2]
                    listed.add(fname)
                    ref[fname] |= {a.decode().lower() for a in addrs}
    tests = os.path.join(os.path.dirname(data_dir), "test_detectors.py")
    src = open(tests, encoding="utf-8").read()
    # resource_stream(..., 'name.txt') ... assertEqual(scan_message(msg), set([b'a', ...]))
    for m in re.finditer(r"'([\w.]+\.txt)'\)\) as fp:(.*?)(?=resource_stream|\Z)", src, re.S):
        fname, body = m.group(1), m.group(2)
        sets = re.findall(r"set\(\[([^\]]*)\]\)", body)
        addrs = set()
        for s in sets:
            addrs |= {a.lower() for a in re.findall(r"b'([^']+)'", s)}
        if "scan_message" in body or "all_failures" in body:
            listed.add(fname)
            ref[fname] |= addrs
    return {f: ref[f] for f in listed}


# ------------------------------------------------------------ scoring

def score_bounceparser(corpus, tool, readings, workdir):
    cases = bounceparser_cases(corpus, readings, workdir)
    det = [all(c["detection"]) for c in cases.values() if c["detection"]]
    det_clean = [all(c["detection"]) for f, c in cases.items() if c["detection"] and f not in QUIRKS]
    rcp = [all(c["recipients"]) for c in cases.values() if c["recipients"]]
    bad = sorted("%s%s%s" % (f, "" if all(c["detection"]) else " detection",
                             "" if all(c["recipients"]) else " recipients")
                 for f, c in cases.items() if not all(c["detection"]) or not all(c["recipients"]))
    return {"detection": (sum(det), len(det)), "recipients": (sum(rcp), len(rcp)), "bad": bad,
            "detection_without_quirks": (sum(det_clean), len(det_clean))}


def score_flufl(corpus, tool, readings, ref):
    det = [0, 0]
    rcp = [0, 0]
    bad = []
    for fname, want in sorted(ref.items()):
        path = os.path.join(corpus, fname)
        got = readings.get(path)
        if got is None or not want:
            continue            # a file listed with no address says nothing to score
        det[1] += 1
        rcp[1] += 1
        addrs = set(got.get("named", got["addresses"]))
        if tool == "bouncewatch":
            detected = got["kind"] in ("dsn", "bounce")
        elif tool == "flufl":
            detected = bool(addrs)
        else:
            detected = bool(addrs)
        det[0] += detected
        rcp[0] += addrs == want
        if not detected or addrs != want:
            bad.append("%s ours=%s ref=%s" % (fname, sorted(addrs), sorted(want)))
    return {"detection": tuple(det), "recipients": tuple(rcp), "bad": bad}


def score_plain(corpus, tool, readings):
    det = [sum(1 for r in readings.values() if r["is_bounce"] or r.get("kind") in ("dsn", "bounce")), len(readings)]
    bad = sorted(os.path.basename(p) for p, r in readings.items()
                 if not (r["is_bounce"] or r.get("kind") in ("dsn", "bounce")))
    return {"detection": tuple(det), "recipients": (0, 0), "bad": bad}


def pct(nd):
    n, d = nd
    return "%6.2f%% (%d/%d)" % (100.0 * n / d, n, d) if d else "   n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="bouncewatch binary (default: $BW_BIN, build/bouncewatch, PATH)")
    ap.add_argument("--list", type=int, default=30, help="disagreeing files listed per tool")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("dirs", nargs="*")
    args = ap.parse_args()
    binary = find_bin(args.bin)
    if binary is None:
        print("heldout-accuracy: no bouncewatch binary (build it, or give --bin)", file=sys.stderr)
        return 2
    dirs = args.dirs or DEFAULT_SETS
    present = [d for d in dirs if os.path.isdir(d)]
    for d in dirs:
        if d not in present:
            print("heldout-accuracy: %s is absent (skipped)" % d)
    if not present:
        return 0
    tools = tools_available()
    figures = {}
    failed = False
    for corpus in present:
        files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus)
                       if os.path.isfile(os.path.join(corpus, f)) and not f.startswith(("__", ".")))
        tdir = os.path.dirname(corpus)
        if os.path.exists(os.path.join(tdir, "TestBounceParser.pm")):
            layout = "bounceparser"
        elif os.path.exists(os.path.join(tdir, "test_detectors.py")):
            layout = "flufl"
        else:
            layout = "plain"
        ref = flufl_reference(corpus) if layout == "flufl" else None
        print("\nheldout-accuracy: %s (%d files, reference: %s)" % (
            corpus, len(files), {"bounceparser": "its test scripts t/*.t",
                                 "flufl": "flufl.bounce's test data",
                                 "plain": "none, every file a report"}[layout]))
        res = {}
        for tool in tools:
            readings = read_all(tool, binary, files)
            with tempfile.TemporaryDirectory(prefix="bw-heldout.") as work:
                if layout == "bounceparser":
                    res[tool] = score_bounceparser(corpus, tool, readings, work)
                elif layout == "flufl":
                    res[tool] = score_flufl(corpus, tool, readings, ref)
                else:
                    res[tool] = score_plain(corpus, tool, readings)
        for tool in tools:
            r = res[tool]
            print("  %-12s detection %-22s recipients %s" % (tool, pct(r["detection"]), pct(r["recipients"])))
        if layout == "bounceparser":
            print("  without the %d assertions their own scripts call bugs (%s):" % (
                len(QUIRKS), ", ".join(sorted(QUIRKS))))
            for tool in tools:
                print("  %-12s detection %s" % (tool, pct(res[tool]["detection_without_quirks"])))
        for measure in ("detection", "recipients"):
            ours = res["bouncewatch"][measure]
            if not ours[1]:
                continue
            others = [res[t][measure] for t in tools if t != "bouncewatch" and res[t][measure][1]]
            target = max([0.99] + [n / d for n, d in others])
            ok = ours[0] / ours[1] >= target - 1e-9
            failed |= not ok
            print("  bouncewatch %-10s %.2f%%, target >= %.2f%%: %s" % (
                measure, 100.0 * ours[0] / ours[1], 100 * target, "PASS" if ok else "FAIL"))
        for tool in tools:
            if res[tool]["bad"] and (tool == "bouncewatch" or args.list > 30):
                print("  %s disagrees on %d file(s):" % (tool, len(res[tool]["bad"])))
                for line in res[tool]["bad"][: args.list]:
                    print("    " + line)
        figures[corpus] = {t: {"detection": res[t]["detection"], "recipients": res[t]["recipients"]}
                           for t in tools}
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
