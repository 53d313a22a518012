#!/usr/bin/env python3
"""The egress policy ([egress] allow/deny): siphond never sends to a denied
destination, it drops the message and logs one line naming it. Runs in a
private network namespace with loopback-only policies. (That broadcast and
multicast destinations are refused even with allow = any is proven on the
send functions themselves, tests/unit/test_xq.c: the core always answers
the source address of a request, which cannot be broadcast or multicast.)"""

import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402

NO_REPLY_WAIT = 0.7


def options_from(srv, src_host, transport="UDP", via_port=None):
    """An OPTIONS for the server itself, with a Via naming src_host."""
    return st.options(srv.port, via_port or 5060, transport=transport, host=src_host,
                      ruri="sip:127.0.0.1:%d" % srv.port)


def udp_from(srv, src_host, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src_host, 0))
        s.settimeout(timeout)
        s.sendto(options_from(srv, src_host, via_port=s.getsockname()[1]),
                 ("127.0.0.1", srv.port))
        try:
            return s.recv(65535), s.getsockname()
        except socket.timeout:
            return None, s.getsockname()
    finally:
        s.close()


def tcp_from(srv, src_host, timeout):
    """(first response or None, closed, our address)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((src_host, 0))
        s.settimeout(3)
        s.connect(("127.0.0.1", srv.port))
        s.sendall(options_from(srv, src_host, "TCP"))
        msgs, closed = st.recv_messages(s, 1, timeout)
        if msgs or closed:
            return (msgs[0] if msgs else None), closed, s.getsockname()
        return None, st.wait_closed(s, 1.0), s.getsockname()
    finally:
        s.close()


def logged_denial(srv, addr):
    needle = "%s:%d denied by the egress policy" % addr
    end = time.monotonic() + 2
    while time.monotonic() < end:
        if needle in srv.stderr_text():
            return True
        time.sleep(0.02)
    return False


def allow_one_host(srv):
    # 127.0.0.2 is allowed: answered
    resp, _ = udp_from(srv, "127.0.0.2", 2.0)
    assert st.parse_status(resp)[0] == 200, "from 127.0.0.2 (allowed): %r" % resp
    resp, closed, _ = tcp_from(srv, "127.0.0.2", 2.0)
    assert st.parse_status(resp)[0] == 200, "tcp from 127.0.0.2 (allowed): %r" % resp
    # 127.0.0.1 is not: nothing comes back, and the log says where it would have gone
    resp, addr = udp_from(srv, "127.0.0.1", NO_REPLY_WAIT)
    assert resp is None, "from 127.0.0.1 (denied) got %r" % resp
    assert logged_denial(srv, addr), "no log line naming %s:%d" % addr
    resp, closed, addr = tcp_from(srv, "127.0.0.1", NO_REPLY_WAIT)
    assert resp is None, "tcp from 127.0.0.1 (denied) got %r" % resp
    assert closed, "the connection of a denied peer stays open"
    assert logged_denial(srv, addr), "no log line naming %s:%d (tcp)" % addr


def deny_loopback(srv):
    for host in ("127.0.0.1", "127.0.0.2"):
        resp, addr = udp_from(srv, host, NO_REPLY_WAIT)
        assert resp is None, "from %s (denied) got %r" % (host, resp)
        assert logged_denial(srv, addr), "no log line naming %s:%d" % addr
        resp, _, addr = tcp_from(srv, host, NO_REPLY_WAIT)
        assert resp is None, "tcp from %s (denied) got %r" % (host, resp)
        assert logged_denial(srv, addr), "no log line naming %s:%d (tcp)" % addr


def default_allows_loopback(srv):
    resp, _ = udp_from(srv, "127.0.0.1", 2.0)
    assert st.parse_status(resp)[0] == 200, "default policy: %r" % resp
    assert "egress" not in srv.stderr_text(), srv.stderr_text()


def config_check(bin_dir):
    cases = [
        ("[egress]\nallow = 127.0.0.0/8, ::1\ndeny = 127.0.0.9\n", 0, []),
        ("[egress]\nallow = any\ndeny = 10.0.0.0/8\ndeny = 2001:db8::/32\n", 0, []),
        ("[egress]\nallow = 10.0.0.0/33\n", 2, [":2:", "allow"]),
        ("# x\n[egress]\ndeny = 10.0.0.0/8, bogus\n", 2, [":3:", "deny"]),
        ("[egress]\nallow = 127.0.0.1,\n", 2, [":2:", "allow"]),
        ("[egress]\nallow = example.com\n", 2, [":2:", "allow"]),
        ("[egress]\nblock = 10.0.0.0/8\n", 2, [":2:", "block"]),
    ]
    for text, want, needles in cases:
        fd, path = tempfile.mkstemp(suffix=".conf")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            rc, _, err = st.run_siphond(bin_dir, ["-c", "-f", path])
            assert rc == want, "%r: rc %d, wanted %d (%s)" % (text, rc, want, err)
            for n in needles:
                assert n in err and path in err, "%r: error lacks %r: %s" % (text, n, err)
        finally:
            os.unlink(path)


def main():
    args = st.setup()
    t = st.Runner()
    t.run("-c: [egress] networks are checked", config_check, args.bin_dir)
    with st.Siphond(args.bin_dir, config="[egress]\nallow = 127.0.0.2/32\n",
                    extra=["--workers", "2"]) as srv:
        t.run("allow = 127.0.0.2/32: only that host is answered", allow_one_host, srv)
    with st.Siphond(args.bin_dir, config="[egress]\nallow = any\ndeny = 127.0.0.0/8\n",
                    extra=["--workers", "2"]) as srv:
        t.run("deny = 127.0.0.0/8: nothing is answered", deny_loopback, srv)
    with st.Siphond(args.bin_dir, extra=["--workers", "1"]) as srv:
        t.run("default policy allows loopback", default_allows_loopback, srv)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
