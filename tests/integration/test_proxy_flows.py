#!/usr/bin/env python3
"""Calls to user agents registered over TCP and TLS connections that they
opened themselves (RFC 5626 §5.3, RFC 3261 §18.2.2): the proxy reaches them
over that connection, from whichever worker the call arrived on.

- alice registers over TCP with a contact naming a private address (she is
  behind NAT): INVITEs for her, sent from sources that two different
  workers take (udp_balance = spread), come down her connection; her 486
  goes back to each caller and the proxy's ACK comes down the same way.
- bob registers over TLS with RFC 5626 outbound (reg-id, +sip.instance) and
  a contact where nothing listens: the same, over TLS.
- Once alice's connection is closed, a call for her fails at once (500),
  without waiting for Timer B; once bob's is, a call for him gets 430 Flow
  Failed (RFC 5626 §5.3) and no connection is tried.

Runs in a private network namespace; every wait is bounded."""

import os
import random
import ssl
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regtest as rt  # noqa: E402
import siphon_test as st  # noqa: E402
from test_udp_balance import bind_on  # noqa: E402
from tlscerts import Certs  # noqa: E402

LOCAL = "127.0.0.1"
CONF = """[domains]
serve = example.com
[auth]
methods = none
[location]
backend = memory
[server]
udp_balance = spread
[http]
listen = 127.0.0.1:%d
"""


def next_request(ua, method, timeout=5.0):
    """The next request of method on the stream (ACKs of earlier calls and
    other requests passed over)."""
    end = time.monotonic() + timeout
    while True:
        msg = ua.next(max(end - time.monotonic(), 0.01))
        if msg.startswith(method.encode() + b" "):
            return msg


def register(ua, user, contact, transport, extra=()):
    lport = ua.sock.getsockname()[1]
    msg, _ = rt.register_msg(rt.new_call_id(), 1, user=user, contacts=[contact], expires=300,
                             transport=transport, local_port=lport, extra=extra)
    ua.send(msg)
    resp = ua.next()
    assert st.parse_status(resp)[0] == 200, resp[:200]


def invite(caller, user):
    lport = caller.getsockname()[1]
    return ("INVITE sip:%s@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-fl%08x;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@example.com>;tag=%08x\r\n"
            "To: <sip:%s@example.com>\r\n"
            "Call-ID: %08x@flows\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:caller@%s:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (
                user, LOCAL, lport, random.getrandbits(32), random.getrandbits(32), user,
                random.getrandbits(32), LOCAL, lport)).encode()


def calls_reach(srv, ua, user, target):
    """Two calls for user, from sources of worker 0 and worker 1 (one of
    them is not the worker holding the connection): each INVITE comes down
    ua's connection to target; the 486 reaches the caller; the ACK of the
    486 comes down the connection too."""
    for worker in (0, 1):
        caller = bind_on(worker, 2)
        try:
            caller.sendto(invite(caller, user), (LOCAL, srv.port))
            inv = next_request(ua, "INVITE")
            line = inv.split(b"\r\n", 1)[0].decode()
            assert line == "INVITE %s SIP/2.0" % target, line
            ua.send(st.response_to(inv, 486, "Busy Here", "u%d" % worker))
            resp, _ = st.final_response(srv, caller)
            assert st.parse_status(resp)[0] == 486, resp[:80]
            ack = next_request(ua, "ACK")
            assert st.header(ack, "Call-ID") == st.header(inv, "Call-ID"), ack[:300]
        finally:
            caller.close()


def call_after_close(srv, user, closing, want):
    """Once siphond has seen the UA's connection close (a call racing the
    close would go down the dying connection and wait for Timer B), a call
    for user gets want at once."""
    assert srv.wait_log(closing, 5), srv.stderr_text()[-2000:]
    with st.udp_socket() as caller:
        caller.sendto(invite(caller, user), (LOCAL, srv.port))
        resp, _ = st.final_response(srv, caller)
        assert st.parse_status(resp) == want, resp[:80]


def flows_gauge(hport):
    """siphon_tcp_flows from /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % hport, timeout=10) as f:
        for line in f.read().decode().splitlines():
            if line.startswith("siphon_tcp_flows "):
                return float(line.split()[1])
    raise AssertionError("no siphon_tcp_flows in /metrics")


def test_tcp_nat(srv, hport):
    assert flows_gauge(hport) == 0
    ua = st.Stream(st.tcp_connect(srv.port))
    ua_port = ua.sock.getsockname()[1]
    try:
        contact = "sip:alice@192.168.1.50:5060;transport=tcp"
        register(ua, "alice", "<%s>" % contact, "TCP")
        # the gauge counts her connection (and no connection siphond opened)
        assert flows_gauge(hport) == 1
        calls_reach(srv, ua, "alice", contact)
    finally:
        ua.close()
    # a connection to her source port is refused: 500 at once
    call_after_close(srv, "alice", "closing 127.0.0.1:%d:" % ua_port,
                     (500, "Next Hop Unavailable"))
    assert flows_gauge(hport) == 0


def test_tls_outbound(srv, certs, tls_port):
    ctx = ssl.create_default_context(cafile=certs.ca)
    ua = st.Stream(ctx.wrap_socket(st.tcp_connect(tls_port), server_hostname=LOCAL))
    ua_port = ua.sock.getsockname()[1]
    try:
        # a public-looking contact where nothing listens: only the flow works
        contact = "sip:bob@%s:%d;transport=tls" % (LOCAL, st.free_port())
        register(ua, "bob", "<%s>;reg-id=1;+sip.instance=\"<urn:uuid:%s>\"" % (
            contact, "00000000-0000-4000-8000-%012x" % random.getrandbits(48)), "TLS",
            extra=["Supported: outbound, path"])
        calls_reach(srv, ua, "bob", contact)
    finally:
        ua.close()
    # RFC 5626 §5.3: the flow is gone, 430 Flow Failed (no new connection)
    call_after_close(srv, "bob", "closing TLS 127.0.0.1:%d:" % ua_port, (430, "Flow Failed"))


def main():
    args = st.setup()
    t = st.Runner()
    certs = Certs()
    try:
        tls_port, hport = st.free_port(), st.free_port()
        # debug: the test waits for the line saying a connection closed
        srv = st.Siphond(args.bin_dir, config=CONF % hport + certs.conf(),
                         extra=["--workers", "2", "--log-level", "debug"],
                         listen=["udp:%s:{port}" % LOCAL, "tcp:%s:{port}" % LOCAL,
                                 "tls:%s:%d" % (LOCAL, tls_port)])
        srv.start()
        try:
            t.run("TCP, behind NAT: calls come down the registration's connection",
                  test_tcp_nat, srv, hport)
            t.run("TLS, RFC 5626 outbound: calls come down the flow",
                  test_tls_outbound, srv, certs, tls_port)
            t.check("siphond alive", srv.alive())
        finally:
            t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    finally:
        certs.remove()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
