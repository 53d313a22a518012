#!/usr/bin/env python3
"""siphond's server transactions (RFC 3261 §17.2, RFC 6026), seen on the
wire: a retransmitted request is absorbed and answered with the stored
response (not handled again), a final response to INVITE is retransmitted
over UDP on the Timer G schedule until the ACK comes, streams never
retransmit, and an ACK for it is absorbed: over TCP and over TLS
(certificates made here with the openssl CLI, Python's ssl module as the
client), and `siphon options` runs a client transaction over TLS."""

import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402
from tlscerts import Certs  # noqa: E402

# These tests watch server transactions around a final response siphond
# makes itself (501 to an INVITE it does not route): the proxy is off.
NO_PROXY = "\n[proxy]\nenabled = no\n"

T1 = 0.5  # seconds, RFC 3261 default


def invite(srv, sp, branch, transport="UDP", method="INVITE", cseq_method=None, extra=""):
    return ("%s sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:%d;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: %s@test\r\n"
            "CSeq: 5 %s\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n" % (method, transport, sp, branch, branch,
                                          cseq_method or method, extra)).encode()


def ack_for(resp, sp, branch, transport="UDP"):
    """The ACK for a non-2xx final (§17.1.1.3): same branch, To with the tag."""
    to = st.header(resp, "To", "t")[0]
    return ("ACK sip:bob@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:%d;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
            "To: %s\r\n"
            "Call-ID: %s@test\r\n"
            "CSeq: 5 ACK\r\n"
            "Content-Length: 0\r\n\r\n" % (transport, sp, branch, to, branch)).encode()


def recv_all(sock, until):
    """Every datagram received before the monotonic time until, with times."""
    got = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return got
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            return got
        got.append((time.monotonic(), data))


def test_timer_g_until_ack(srv):
    """501 to an INVITE over UDP: sent, then again after T1, 2T1, 4T1 (Timer
    G, §17.2.1); the ACK moves the transaction to Confirmed and stops it."""
    branch = "z9hG4bK-g-%d" % srv.port
    with st.udp_socket() as s:
        sp = st.udp_source_port(s)
        t0 = time.monotonic()
        s.sendto(invite(srv, sp, branch), ("127.0.0.1", srv.port))
        got = recv_all(s, t0 + 7 * T1 + 0.3)
        codes = [st.parse_status(d)[0] for _, d in got]
        assert codes and all(c == 501 for c in codes), codes
        # final at 0, then retransmissions at T1, 3T1, 7T1 (intervals doubling)
        assert len(got) == 4, "expected 4 copies in 3.8 s, got %d at %s" % (
            len(got), ["%.2f" % (t - t0) for t, _ in got])
        for (t, _), want in zip(got, (0, T1, 3 * T1, 7 * T1)):
            assert abs((t - t0) - want) < 0.25, "copy at %.2f s, expected %.2f s" % (t - t0, want)
        first = got[0][1]
        assert all(d == first for _, d in got), "retransmissions differ from the first 501"
        s.sendto(ack_for(first, sp, branch), ("127.0.0.1", srv.port))
        after = recv_all(s, time.monotonic() + 8 * T1 + 0.5)
        assert not after, "still retransmitting after the ACK: %d more" % len(after)


def test_retransmission_absorbed(srv):
    """The same branch again is a retransmission (§17.2.3): it gets the stored
    response even though, handled afresh, it would now earn a 420."""
    branch = "z9hG4bK-r-%d" % srv.port
    with st.udp_socket() as s:
        sp = st.udp_source_port(s)
        ruri = "sip:127.0.0.1:%d" % srv.port
        req = invite(srv, sp, branch, method="OPTIONS").replace(
            b"sip:bob@example.com SIP/2.0", (ruri + " SIP/2.0").encode())
        r1 = st.udp_exchange(req, srv.port, sock=s)
        assert st.parse_status(r1)[0] == 200, r1
        changed = req.replace(b"Content-Length: 0", b"Require: nosuchthing\r\nContent-Length: 0")
        r2 = st.udp_exchange(changed, srv.port, sock=s)
        assert r2 == r1, "retransmission not answered with the stored response:\n%r" % r2
        # a new branch is a new transaction and is handled: 420
        r3 = st.udp_exchange(changed.replace(branch.encode(), (branch + "x").encode()),
                             srv.port, sock=s)
        assert st.parse_status(r3)[0] == 420, r3


def test_stream_no_retransmit(srv):
    """Over TCP the 501 is sent once (§17.2.1: Timer G only for unreliable
    transports) and the ACK is absorbed without an answer."""
    branch = "z9hG4bK-t-%d" % srv.port
    s = st.tcp_connect(srv.port)
    try:
        sp = s.getsockname()[1]
        s.sendall(invite(srv, sp, branch, transport="TCP"))
        msgs, closed = st.recv_messages(s, 2, timeout=2 * T1 + 0.5)
        assert len(msgs) == 1 and st.parse_status(msgs[0])[0] == 501, msgs
        s.sendall(ack_for(msgs[0], sp, branch, transport="TCP"))
        msgs, closed = st.recv_messages(s, 1, timeout=1.0)
        assert not msgs, "ACK answered: %r" % msgs
        assert not closed
    finally:
        s.close()


def test_tls_no_retransmit(srv, certs):
    """Over TLS as over TCP: one 501, no Timer G (§17.2.1), ACK absorbed."""
    branch = "z9hG4bK-s-%d" % srv.port
    ctx = ssl.create_default_context(cafile=certs.ca)
    s = ctx.wrap_socket(st.tcp_connect(srv.port), server_hostname="127.0.0.1")
    try:
        sp = s.getsockname()[1]
        s.sendall(invite(srv, sp, branch, transport="TLS"))
        msgs, closed = st.recv_messages(s, 2, timeout=2 * T1 + 0.5)
        assert len(msgs) == 1 and st.parse_status(msgs[0])[0] == 501, msgs
        s.sendall(ack_for(msgs[0], sp, branch, transport="TLS"))
        msgs, closed = st.recv_messages(s, 1, timeout=1.0)
        assert not msgs, "ACK answered or 501 retransmitted: %r" % msgs
        assert not closed, "connection closed"
    finally:
        s.close()


def test_tls_client_transaction(bin_dir, srv, certs):
    """`siphon options` over TLS: a client non-INVITE transaction on a
    reliable transport (§17.1.2), the server verified with the test CA."""
    for uri in ("sip:127.0.0.1:%d;transport=tls" % srv.port, "sips:127.0.0.1:%d" % srv.port):
        p = subprocess.run([os.path.join(bin_dir, "siphon"), "options", uri, "-v",
                            "--ca-file", certs.ca], capture_output=True, timeout=20)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        assert p.returncode == 0 and "SIP/2.0 200 OK" in out, "%s: exit %d\n%s\n%s" % (
            uri, p.returncode, out, err[-2000:])
        assert "sent to TLS 127.0.0.1:%d" % srv.port in err, err[-2000:]
        assert "Via: SIP/2.0/TLS " in err, err[-2000:]
        for mark in st.SANITIZER_MARKS:
            assert mark not in err, "siphon: sanitizer report:\n" + err[-3000:]


def run_tls(t, bin_dir):
    certs = Certs()
    try:
        srv = st.Siphond(bin_dir, listen=["tls:127.0.0.1:{port}"],
                         config=certs.conf() + NO_PROXY)
        srv.start()
        try:
            t.run("TLS: no retransmission, ACK absorbed", test_tls_no_retransmit, srv, certs)
            t.run("TLS: siphon options, client transaction, 200",
                  test_tls_client_transaction, bin_dir, srv, certs)
            t.check("siphond (tls) alive", srv.alive())
        finally:
            t.run("TLS siphond: SIGTERM -> exit 0, no sanitizer report", srv.stop)
    finally:
        certs.remove()


def test_cancel(srv):
    """§9.2: a CANCEL for an INVITE whose transaction exists gets 200 (the
    final response already sent stands), with the INVITE response's To tag;
    a CANCEL matching nothing gets 481."""
    branch = "z9hG4bK-c-%d" % srv.port
    with st.udp_socket() as s:
        sp = st.udp_source_port(s)
        r_inv = st.udp_exchange(invite(srv, sp, branch), srv.port, sock=s)
        assert st.parse_status(r_inv)[0] == 501, r_inv
        cancel = invite(srv, sp, branch, method="CANCEL")
        s.sendto(cancel, ("127.0.0.1", srv.port))
        r_can = None
        for _, d in recv_all(s, time.monotonic() + 1.0):
            if st.parse_status(d)[0] != 501:   # skip Timer G copies of the 501
                r_can = d
                break
        assert st.parse_status(r_can)[0] == 200, r_can
        assert st.header(r_can, "CSeq")[0] == "5 CANCEL", st.header(r_can, "CSeq")
        assert st.header(r_can, "To")[0] == st.header(r_inv, "To")[0], (
            st.header(r_can, "To"), st.header(r_inv, "To"))
        s.sendto(ack_for(r_inv, sp, branch), ("127.0.0.1", srv.port))
    with st.udp_socket() as s:
        sp = st.udp_source_port(s)
        r = st.udp_exchange(invite(srv, sp, branch + "-none", method="CANCEL"), srv.port, sock=s)
        assert st.parse_status(r)[0] == 481, r


def test_configured_t1_and_timer_h(bin_dir):
    """[transactions] t1 = 50: Timer G runs at 50, 100, 200, ... ms and Timer
    H (64*T1 = 3.2 s) ends the transaction when no ACK comes (§17.2.1)."""
    srv = st.Siphond(bin_dir, config="[transactions]\nt1 = 50\n" + NO_PROXY)
    srv.start()
    try:
        branch = "z9hG4bK-h-%d" % srv.port
        with st.udp_socket() as s:
            sp = st.udp_source_port(s)
            t0 = time.monotonic()
            s.sendto(invite(srv, sp, branch), ("127.0.0.1", srv.port))
            got = recv_all(s, t0 + 3.6)
        offsets = [t - t0 for t, _ in got]
        # 0, 50, 150, 350, 750, 1550, 3150 ms, then Timer H at 3200 ms
        assert len(got) == 7, "expected 7 copies, got %d at %s" % (
            len(got), ["%.3f" % o for o in offsets])
        for o, want in zip(offsets, (0, .05, .15, .35, .75, 1.55, 3.15)):
            assert abs(o - want) < 0.12, "copy at %.3f s, expected %.3f s" % (o, want)
        assert srv.wait_log("(Timer H)", 2), "Timer H not logged:\n" + srv.stderr_text()[-1500:]
    finally:
        srv.stop()


def main():
    args = st.setup()
    t = st.Runner()
    srv = st.Siphond(args.bin_dir, config=NO_PROXY)
    srv.start()
    try:
        t.run("Timer G retransmits the 501 until the ACK", test_timer_g_until_ack, srv)
        t.run("retransmitted request absorbed", test_retransmission_absorbed, srv)
        t.run("TCP: no retransmission, ACK absorbed", test_stream_no_retransmit, srv)
        t.run("CANCEL: 200 with the INVITE's To tag, 481 when nothing matches", test_cancel, srv)
        t.run("[transactions] t1 = 50: Timer G schedule and Timer H", test_configured_t1_and_timer_h,
              args.bin_dir)
        t.check("siphond alive", srv.alive())
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    run_tls(t, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
