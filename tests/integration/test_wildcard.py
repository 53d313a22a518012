#!/usr/bin/env python3
"""siphond listening on wildcard addresses (0.0.0.0, ::): each datagram's own
destination is learned (IP_PKTINFO), so an OPTIONS to any of the machine's
addresses is recognised as addressed to the server over UDP as over TCP, and
the reply leaves from the address the request was sent to."""

import socket
import sys

import siphon_test as st


def options_to(srv, host, fam=socket.AF_INET):
    """OPTIONS sip:host:port sent to host over UDP; (reply, reply's source)."""
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.bind((host if fam == socket.AF_INET else "::1", 0))
        sp = s.getsockname()[1]
        req = st.options(srv.port, sp, host=host)
        s.settimeout(2.0)
        s.sendto(req, (host, srv.port))
        data, src = s.recvfrom(65535)
        return data, src[0]
    finally:
        s.close()


def test_udp_v4(srv):
    for host in ("127.0.0.1", "127.0.0.2"):
        resp, src = options_to(srv, host)
        code, reason = st.parse_status(resp)
        assert code == 200, "OPTIONS sip:%s over UDP to a wildcard listener: %s %s" % (host, code, reason)
        assert src == host, "reply to a request for %s came from %s" % (host, src)


def test_tcp_v4(srv):
    for host in ("127.0.0.1", "127.0.0.2"):
        resp, _ = st.tcp_exchange(st.options(srv.port, 1, transport="TCP", host=host), srv.port,
                                  host=host)
        assert st.parse_status(resp)[0] == 200, resp


def test_udp_v6(srv):
    resp, src = options_to(srv, "::1", socket.AF_INET6)
    assert st.parse_status(resp)[0] == 200, resp
    assert src == "::1", src


def main():
    args = st.setup()
    t = st.Runner()
    srv = st.Siphond(args.bin_dir, listen=["udp:0.0.0.0:{port}", "tcp:0.0.0.0:{port}",
                                           "udp:[::]:{port}"])
    srv.start()
    try:
        t.run("UDP on 0.0.0.0: OPTIONS to 127.0.0.1 and 127.0.0.2 -> 200 from that address",
              test_udp_v4, srv)
        t.run("TCP on 0.0.0.0: OPTIONS to 127.0.0.1 and 127.0.0.2 -> 200", test_tcp_v4, srv)
        t.run("UDP on [::]: OPTIONS to ::1 -> 200 from ::1", test_udp_v6, srv)
        t.check("siphond alive", srv.alive())
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
