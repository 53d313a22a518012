#!/usr/bin/env python3
"""Two siphond sharing bindings through one real redis-server ([location]
backend = redis): a REGISTER at one is visible at the other at once (a fetch
REGISTER there lists it), removals too, a server started later loads what is
there, and a server keeps serving what it has when Redis goes away and
comes back. Everything on loopback inside the private netns."""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import siphon_test as st

CONF = """[domains]
serve = example.com
[auth]
methods = none
[location]
backend = redis
redis = 127.0.0.1:%d
redis_prefix = %s
"""


class Redis:
    """redis-server on a free loopback port, no persistence, stopped by PID."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="siphon-redis-")
        self.port = None
        self.proc = None

    def start(self, port=None):
        self.port = port or st.free_port()
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed (scripts/install-deps --test)"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def register(port, user, contact=None, expires=None, cseq=1, call_id=None, star=False):
    """A REGISTER for user@example.com at 127.0.0.1:port; returns the response."""
    with st.udp_socket() as s:
        sp = st.udp_source_port(s)
        hdrs = ""
        if star:
            hdrs += "Contact: *\r\n"
        elif contact:
            hdrs += "Contact: <%s>\r\n" % contact
        if expires is not None:
            hdrs += "Expires: %d\r\n" % expires
        msg = ("REGISTER sip:example.com SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%08x;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:%s@example.com>;tag=%08x\r\n"
               "To: <sip:%s@example.com>\r\n"
               "Call-ID: %s\r\n"
               "CSeq: %d REGISTER\r\n"
               "%s"
               "Content-Length: 0\r\n\r\n" % (
                   sp, random.getrandbits(32), user, random.getrandbits(32), user,
                   call_id or "%08x@redis-test" % random.getrandbits(32), cseq, hdrs)).encode()
        return st.udp_exchange(msg, port, sock=s, timeout=3.0)


def contacts(resp):
    return [c for c in st.header(resp, "Contact", "m")]


def fetch(port, user):
    resp = register(port, user)
    code, reason = st.parse_status(resp)
    assert code == 200, "fetch at %d: %s %s" % (port, code, reason)
    return contacts(resp)


def wait_contacts(port, user, want, timeout=3.0):
    """Poll fetches until the contact URIs are exactly want (a set)."""
    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        got = {c.split(">")[0].lstrip("<") for c in fetch(port, user)}
        if got == want:
            return
        time.sleep(0.05)
    raise AssertionError("at port %d %s has %s, wanted %s" % (port, user, got, want))


def test_shared(a, b):
    code, reason = st.parse_status(register(a.port, "alice", "sip:alice@10.0.0.1:5060", 600))
    assert code == 200, "register at A: %s %s" % (code, reason)
    wait_contacts(b.port, "alice", {"sip:alice@10.0.0.1:5060"})
    # a second phone registered at B shows at A; both listed everywhere
    code, _ = st.parse_status(register(b.port, "alice", "sip:alice@10.0.0.2:5060", 600))
    assert code == 200
    both = {"sip:alice@10.0.0.1:5060", "sip:alice@10.0.0.2:5060"}
    wait_contacts(a.port, "alice", both)
    wait_contacts(b.port, "alice", both)
    # the 200 lists the expires granted, counted down from the same binding
    resp = register(b.port, "alice")
    for c in contacts(resp):
        assert "expires=" in c, "no expires in %r" % c


def test_remove(a, b):
    register(a.port, "bob", "sip:bob@10.0.0.3:5060", 600)
    wait_contacts(b.port, "bob", {"sip:bob@10.0.0.3:5060"})
    code, _ = st.parse_status(register(b.port, "bob", "sip:bob@10.0.0.3:5060", 0, cseq=2))
    assert code == 200
    wait_contacts(a.port, "bob", set())
    register(a.port, "carol", "sip:carol@10.0.0.4:5060", 600)
    register(a.port, "carol", "sip:carol@10.0.0.5:5060", 600)
    wait_contacts(b.port, "carol", {"sip:carol@10.0.0.4:5060", "sip:carol@10.0.0.5:5060"})
    code, _ = st.parse_status(register(b.port, "carol", star=True, expires=0))
    assert code == 200
    wait_contacts(a.port, "carol", set())


def test_late_start(redis, prefix, a):
    register(a.port, "dave", "sip:dave@10.0.0.6:5060", 600)
    with st.Siphond(ARGS.bin_dir, config=CONF % (redis.port, prefix)) as c:
        wait_contacts(c.port, "dave", {"sip:dave@10.0.0.6:5060"})


def test_other_prefix(redis, a):
    register(a.port, "erin", "sip:erin@10.0.0.7:5060", 600)
    with st.Siphond(ARGS.bin_dir, config=CONF % (redis.port, "other")) as c:
        assert fetch(c.port, "erin") == [], "a server on another prefix sees erin"


def health(hport):
    """(HTTP status, JSON) of A's /api/health."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/health" % hport, timeout=10) as f:
            return f.status, json.loads(f.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def siphonctl_health(hport):
    p = subprocess.run([os.path.join(ARGS.bin_dir, "siphonctl"), "--http",
                        "127.0.0.1:%d" % hport, "health"],
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout + p.stderr


def test_redis_down(redis, a, b, hport):
    """Redis gone: a change cannot be made durable, so it is not acknowledged
    (5xx, never a 200); lookups keep working from memory, and /api/health says
    503 degraded (siphonctl health exits 1). Redis back: the next change
    succeeds and reaches the other server, and health is 200 again."""
    port = redis.port
    status, j = health(hport)
    assert status == 200 and j["location"]["state"] == "up", (status, j)
    redis.stop()
    code, reason = st.parse_status(register(a.port, "frank", "sip:frank@10.0.0.8:5060", 600))
    assert code is not None and code >= 500, "register with redis down: %s %s" % (code, reason)
    status, j = health(hport)
    assert status == 503 and j["status"] == "degraded", (status, j)
    assert j["location"]["state"] == "failing" and j["location"]["error"], j
    assert j["location"]["failed_writes"] >= 1, j
    rc, out = siphonctl_health(hport)
    assert rc == 1 and "failing" in out, (rc, out)
    assert st.parse_status(register(a.port, "alice"))[0] == 200, "fetch with redis down"
    redis.start(port)
    end = time.monotonic() + 10
    while True:
        code, _ = st.parse_status(register(a.port, "grace", "sip:grace@10.0.0.9:5060", 600))
        if code == 200 or time.monotonic() > end:
            break
        time.sleep(0.2)
    assert code == 200, "no recovery after redis came back: %s" % code
    wait_contacts(b.port, "grace", {"sip:grace@10.0.0.9:5060"}, timeout=5)
    status, j = health(hport)
    assert status == 200 and j["status"] == "ok" and j["location"]["state"] == "up", (status, j)
    rc, out = siphonctl_health(hport)
    assert rc == 0 and "redis: up" in out, (rc, out)


def main():
    global ARGS
    ARGS = st.setup()
    t = st.Runner()
    redis = Redis()
    prefix = "t%08x" % random.getrandbits(32)
    try:
        redis.start()
        conf = CONF % (redis.port, prefix)
        hport = st.free_port()
        with st.Siphond(ARGS.bin_dir, config=conf, extra=["--http", "127.0.0.1:%d" % hport]) as a, \
                st.Siphond(ARGS.bin_dir, config=conf, extra=["--workers", "2"]) as b:
            t.run("register at A, visible at B and back", test_shared, a, b)
            t.run("removals propagate", test_remove, a, b)
            t.run("a server started later loads the bindings", test_late_start, redis, prefix, a)
            t.run("another prefix is another location service", test_other_prefix, redis, a)
            t.run("redis down: no false 200, health 503, recovery", test_redis_down, redis, a,
                  b, hport)
    except Exception as e:  # noqa: BLE001
        t.check("servers run", False, str(e))
    finally:
        redis.cleanup()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
