#!/usr/bin/env python3
"""Reproducer (now a regression check): siphond leaked the proxy context (and
the server transaction it references) of every INVITE forked in parallel
when one branch answered 2xx while another branch was still pending, and
that other branch ended later (487 after our CANCEL, 408 on Timer B, or a
transport error): sd_pxy_check_done() returned at once when the final
response was out, so the context's creation reference was never dropped.
Seen with the tree of 2026-11-25 02:40 UTC (+2.99 blocks per call in the
ring and silent cases); fixed by the sd_pxy_check_done() change of 02:43
(every case then stays at about 0 per call).

    bench/proxy/fork_leak_repro.py [--siphond build/siphond] [--calls 200]
                                   [--case ring|silent|single|all]

Found by bench/proxy/run (its memory check once forked every call to a stale
contact). Standard library only; needs gdb to read siphond's own count of
live heap blocks (mem_live_blocks(), src/base/mem.c) from the running
process. Runs in a private network namespace (unshare --net) on loopback.

Cases, each on a fresh siphond ([auth] methods = none, memory location
backend, --workers 1), bob@example.com registered with:
  single  one contact, answers 200 (control: nothing should stay)
  ring    two contacts: A answers 200 after 50 ms; B rings (180) at once and
          answers our CANCEL with 200 + 487 (the everyday parallel fork)
  silent  two contacts: A answers 200; B never answers (Timer B, 32 s)
Each call: INVITE -> 200 -> ACK -> BYE -> 200 along the Record-Route, one
call at a time. Then we wait until every transaction has expired (40 s,
beyond Timers B/D/J/L/M = 32 s) and read mem_live_blocks() and VmRSS.
"""

import argparse
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    return s


def hdr(msg, name):
    m = re.search(r"\r\n%s:[ \t]*([^\r\n]*)" % name, msg, re.I)
    return m.group(1) if m else ""


def via_lines(msg):
    return "".join("Via: %s\r\n" % v for v in re.findall(r"\r\nVia:[ \t]*([^\r\n]*)", msg))


def response(req, code, reason, to_tag=None, contact=None):
    to = hdr(req, "To")
    if to_tag and ";tag=" not in to:
        to += ";tag=" + to_tag
    rr = "".join("Record-Route: %s\r\n" % v
                 for v in re.findall(r"\r\nRecord-Route:[ \t]*([^\r\n]*)", req))
    return ("SIP/2.0 %d %s\r\n%s%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%s"
            "Content-Length: 0\r\n\r\n" % (
                code, reason, via_lines(req), rr if code < 300 else "", hdr(req, "From"), to,
                hdr(req, "Call-ID"), hdr(req, "CSeq"),
                "Contact: <%s>\r\n" % contact if contact else "")).encode()


class Callee(threading.Thread):
    """A UA on its own socket: 'answer' (200 after delay), 'ring' (180, then
    CANCEL -> 200 + 487), 'silent' (never answers)."""

    def __init__(self, mode, delay=0.0):
        super().__init__(daemon=True)
        self.mode, self.delay = mode, delay
        self.sock = udp()
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.pending = []  # (when, data, addr)
        self.invites = {}

    def contact(self):
        return "sip:bob@%s:%d" % (HOST, self.port)

    def run(self):
        while not self.stop:
            now = time.monotonic()
            for item in [p for p in self.pending if p[0] <= now]:
                self.pending.remove(item)
                self.sock.sendto(item[1], item[2])
            r, _, _ = select.select([self.sock], [], [], 0.01)
            if not r:
                continue
            data, addr = self.sock.recvfrom(65535)
            msg = data.decode("utf-8", "replace")
            method = msg.split(" ", 1)[0]
            if self.mode == "silent" or msg.startswith("SIP/2.0"):
                continue
            tag = "%x" % (hash(hdr(msg, "Call-ID")) & 0xffffffff)
            if method == "INVITE":
                if self.mode == "ring":
                    self.invites[hdr(msg, "Call-ID")] = msg
                    self.sock.sendto(response(msg, 180, "Ringing", tag, self.contact()), addr)
                else:
                    self.pending.append((now + self.delay,
                                         response(msg, 200, "OK", tag, self.contact()), addr))
            elif method == "CANCEL":
                self.sock.sendto(response(msg, 200, "OK", tag), addr)
                inv = self.invites.pop(hdr(msg, "Call-ID"), None)
                if inv:
                    self.sock.sendto(response(inv, 487, "Request Terminated", tag), addr)
            elif method == "BYE":
                self.sock.sendto(response(msg, 200, "OK", tag), addr)
            # ACK: nothing


def transact(sock, port, data, want_method, timeout=5.0):
    """Send (retransmitting every 0.5 s) until a final response to want_method."""
    end = time.monotonic() + timeout
    nxt = 0
    while time.monotonic() < end:
        if time.monotonic() >= nxt:
            sock.sendto(data, (HOST, port))
            nxt = time.monotonic() + 0.5
        r, _, _ = select.select([sock], [], [], 0.05)
        if not r:
            continue
        msg = sock.recv(65535).decode("utf-8", "replace")
        m = re.match(r"SIP/2\.0 (\d{3})", msg)
        if m and hdr(msg, "CSeq").endswith(want_method) and int(m.group(1)) >= 200:
            return int(m.group(1)), msg
    return None, ""


def register(port, contact):
    s = udp()
    msg = ("REGISTER sip:example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%x;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=r%x\r\n"
           "To: <sip:bob@example.com>\r\n"
           "Call-ID: reg%x\r\nCSeq: 1 REGISTER\r\nContact: <%s>\r\nExpires: 3600\r\n"
           "Content-Length: 0\r\n\r\n" % (HOST, s.getsockname()[1], random.getrandbits(48),
                                          random.getrandbits(32), random.getrandbits(48), contact))
    code, _ = transact(s, port, msg.encode(), "REGISTER")
    s.close()
    assert code == 200, "REGISTER %s: %s" % (contact, code)


def call(port, i):
    s = udp()
    lp = s.getsockname()[1]
    cid = "leak-%d-%x" % (i, random.getrandbits(32))
    base = ("Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%%s;rport\r\nMax-Forwards: 70\r\n"
            "From: <sip:alice@example.com>;tag=a%d\r\nTo: %%s\r\nCall-ID: %s\r\nCSeq: %%s\r\n"
            "Contact: <sip:alice@%s:%d>\r\n%%sContent-Length: 0\r\n\r\n"
            % (HOST, lp, i, cid, HOST, lp))
    inv = ("INVITE sip:bob@example.com SIP/2.0\r\n" +
           base % ("i%x" % random.getrandbits(48), "<sip:bob@example.com>", "1 INVITE", ""))
    code, resp = transact(s, port, inv.encode(), "INVITE")
    if code != 200:
        s.close()
        return code
    to = hdr(resp, "To")
    target = re.search(r"<([^>]+)>", hdr(resp, "Contact")).group(1)
    routes = "".join("Route: %s\r\n" % v
                     for v in re.findall(r"\r\nRecord-Route:[ \t]*([^\r\n]*)", resp))
    ack = "ACK %s SIP/2.0\r\n" % target + base % ("a%x" % random.getrandbits(48), to, "1 ACK",
                                                  routes)
    s.sendto(ack.encode(), (HOST, port))
    bye = "BYE %s SIP/2.0\r\n" % target + base % ("b%x" % random.getrandbits(48), to, "2 BYE",
                                                  routes)
    code, _ = transact(s, port, bye.encode(), "BYE")
    s.close()
    return 200 if code == 200 else ("BYE %s" % code)


def live_blocks(pid):
    out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "print (long)mem_live_blocks()"],
                         capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
    m = re.search(r"\$1 = (-?\d+)", out)
    return int(m.group(1)) if m else None


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def run_case(a, case, tmp):
    port = free_port()
    d = os.path.join(tmp, case)
    os.makedirs(d)
    conf = os.path.join(d, "siphond.conf")
    with open(conf, "w") as f:
        f.write("[domains]\nserve = example.com\n[auth]\nmethods = none\n[location]\n"
                "backend = memory\n[proxy]\nrecord_route = yes\n")
    argv = [a.siphond, "-f", conf, "--listen", "udp:%s:%d" % (HOST, port), "--data-dir",
            os.path.join(d, "data"), "--workers", "1"]
    logf = open(os.path.join(d, "siphond.log"), "wb")
    p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end and b"listening on" not in open(logf.name, "rb").read():
            time.sleep(0.02)
        uas = [Callee("answer", 0.05 if case == "ring" else 0.0)]
        if case == "ring":
            uas.append(Callee("ring"))
        elif case == "silent":
            uas.append(Callee("silent"))
        for u in uas:
            u.start()
            register(port, u.contact())
        time.sleep(0.2)
        b0, r0 = live_blocks(p.pid), rss(p.pid)
        results = {}
        for i in range(a.calls):
            c = call(port, i)
            results[c] = results.get(c, 0) + 1
        time.sleep(a.settle)
        b1, r1 = live_blocks(p.pid), rss(p.pid)
        for u in uas:
            u.stop = True
        log = open(logf.name, "rb").read().decode("utf-8", "replace")
        extra = [l for l in log.splitlines()
                 if not re.search(r"listening on|Terminated|stopped", l)]
        print("%-7s %d calls (final responses %s); %.0f s later: live blocks %s -> %s (%+.2f per "
              "call), VmRSS %.1f -> %.1f MB; siphond log lines besides start/stop: %d%s" % (
                  case, a.calls, results, a.settle, b0, b1,
                  (b1 - b0) / a.calls if b0 is not None and b1 is not None else float("nan"),
                  r0 / 1e6, r1 / 1e6, len(extra),
                  "".join("\n          " + l for l in extra[:5])), flush=True)
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        logf.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--siphond", default=os.path.join(ROOT, "build", "siphond"))
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--settle", type=float, default=40.0,
                    help="seconds to wait after the last call (default 40: beyond 64*T1)")
    ap.add_argument("--case", default="all", choices=("single", "ring", "silent", "all"))
    a = ap.parse_args()
    a.siphond = os.path.abspath(a.siphond)
    if os.environ.get("FORK_LEAK_NETNS") != "1":
        env = dict(os.environ, FORK_LEAK_NETNS="1")
        cmd = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-r", "--net"]
        sys.exit(subprocess.run(cmd + ["--", sys.executable, os.path.abspath(__file__)] +
                                sys.argv[1:], env=env, timeout=900).returncode)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    if not shutil.which("gdb"):
        sys.exit("gdb is needed to read mem_live_blocks() from siphond")
    tmp = tempfile.mkdtemp(prefix="fork-leak-")
    try:
        for case in (("single", "ring", "silent") if a.case == "all" else (a.case,)):
            run_case(a, case, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
