#!/usr/bin/env python3
"""siphond proxying to a TLS next hop (RFC 3261 §26.2.1, §18.1.1): a call
from a UDP caller to a peer domain whose static route names a TLS hop, the
peer played by Python's ssl module with a certificate from the test CA.

- INVITE, 180, 200, ACK and BYE across the transport change: the forwarded
  INVITE carries a TLS Via and a double Record-Route (RFC 5658), the ACK
  comes on the connection siphond opened (reused, §18.1.1), the callee's BYE
  comes back over a TLS connection of its own to siphond's TLS listener and
  reaches the caller over UDP.
- A next hop whose certificate the configured CA did not sign: the handshake
  is refused and the log names the failure; the branch ends at once as on a
  503 (§17.1.4), not at Timer B, and the caller gets 500 Next Hop
  Unavailable (§16.7 step 6: a 503 is not passed upstream).
- A next hop where nothing listens: the same, at once.
- A TLS hop that is a name (a Route resolved with RFC 3263 through dnsmasq):
  its certificate is checked against that name (RFC 5922 §4), not the
  address the name resolved to; one that shows another name is refused.

Runs in a private network namespace; every wait is bounded."""

import os
import random
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402
from test_uac_dns import Dnsmasq  # noqa: E402
from tlscerts import Certs  # noqa: E402

LOCAL = "127.0.0.1"


class TlsPeer:
    """A TLS listener on a free loopback port, serving cert/key."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LOCAL, 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]

    def accept(self, timeout=5.0, why=lambda: ""):
        """The next connection, its handshake done: (Stream, error)."""
        self.lsock.settimeout(timeout)
        try:
            raw, _ = self.lsock.accept()
        except socket.timeout:
            raise AssertionError("no connection within %.1f s; %s" % (timeout, why())) from None
        raw.settimeout(timeout)
        try:
            return st.Stream(self.ctx.wrap_socket(raw, server_side=True)), None
        except (ssl.SSLError, OSError) as e:
            raw.close()
            return None, e

    def close(self):
        self.lsock.close()


def udp_next(sock, timeout=5.0):
    sock.settimeout(timeout)
    return sock.recv(65535)


def invite(srv, caller, ruri, call_id, tag):
    lport = caller.getsockname()[1]
    return ("INVITE %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-tls%08x;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@example.com>;tag=%s\r\n"
            "To: <%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:caller@%s:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (ruri, LOCAL, lport, random.getrandbits(32), tag,
                                           ruri, call_id, LOCAL, lport)).encode()


def diagnose(srv, caller):
    """What the caller got and siphond logged, for a failure message."""
    got = []
    caller.setblocking(False)
    try:
        while True:
            got.append(caller.recv(65535).split(b"\r\n", 1)[0])
    except OSError:
        pass
    finally:
        caller.setblocking(True)
    return "the caller got %r; siphond:\n%s" % (got, srv.stderr_text()[-1500:])


def test_call(srv, certs, far, tls_port):
    with st.udp_socket() as caller:
        call_id = "%08x@tls-hop" % random.getrandbits(32)
        ruri = "sip:peer@example.net"
        caller.sendto(invite(srv, caller, ruri, call_id, "c1"), (LOCAL, srv.port))
        conn, err = far.accept()
        assert conn, "siphond's TLS handshake with the next hop failed: %s" % err
        try:
            inv = conn.next()
            assert inv.startswith(b"INVITE %s SIP/2.0\r\n" % ruri.encode()), inv[:80]
            top = st.header_values(inv, "Via", "v")[0]
            assert top.startswith("SIP/2.0/TLS %s:%d;" % (LOCAL, tls_port)), top
            rr = st.header_values(inv, "Record-Route")
            # RFC 5658: one URI per side, the one facing the next hop on top
            assert len(rr) == 2, rr
            assert "transport=tls" in rr[0] and ":%d;" % tls_port in rr[0], rr
            assert "transport=" not in rr[1] and ":%d;" % srv.port in rr[1], rr

            contact = "<sip:peer@%s:%d;transport=tls>" % (LOCAL, far.port)
            conn.send(st.response_to(inv, 180, "Ringing", "f1", contact))
            conn.send(st.response_to(inv, 200, "OK", "f1", contact))
            ok, prov = st.final_response(srv, caller)
            code = st.parse_status(ok)[0]
            assert code == 200 and 180 in prov, (code, prov)
            assert st.header_values(ok, "Record-Route") == rr, st.header_values(ok, "Record-Route")
            to = st.header(ok, "To", "t")[0]

            # the caller's ACK: route set = Record-Route reversed (§12.1.2)
            lport = caller.getsockname()[1]
            target = "sip:peer@%s:%d;transport=tls" % (LOCAL, far.port)
            ack = ("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-a%08x;rport\r\n"
                   "Max-Forwards: 70\r\nRoute: %s\r\nFrom: <sip:caller@example.com>;tag=c1\r\n"
                   "To: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n" % (
                       target, LOCAL, lport, random.getrandbits(32), ", ".join(reversed(rr)),
                       to, call_id)).encode()
            caller.sendto(ack, (LOCAL, srv.port))
            # §18.1.1: on the connection siphond opened for the INVITE
            got = conn.next()
            assert got.startswith(b"ACK %s SIP/2.0\r\n" % target.encode()), got[:80]
            assert not st.header(got, "Route"), "our Routes stayed: %r" % st.header(got, "Route")

            # the callee's BYE: route set = Record-Route as received (§12.1.1),
            # over a TLS connection of its own to the first Route (siphond)
            ctx = ssl.create_default_context(cafile=certs.ca)
            cli = st.Stream(ctx.wrap_socket(st.tcp_connect(tls_port), server_hostname=LOCAL))
            try:
                cport = cli.sock.getsockname()[1]
                bye = ("BYE sip:caller@%s:%d SIP/2.0\r\n"
                       "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK-b%08x\r\n"
                       "Max-Forwards: 70\r\nRoute: %s\r\n"
                       "From: %s\r\nTo: <sip:caller@example.com>;tag=c1\r\n"
                       "Call-ID: %s\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n" % (
                           LOCAL, lport, LOCAL, cport, random.getrandbits(32), ", ".join(rr),
                           to, call_id)).encode()
                cli.send(bye)
                got = udp_next(caller)
                assert got.startswith(b"BYE sip:caller@%s:%d SIP/2.0\r\n"
                                      % (LOCAL.encode(), lport)), got[:80]
                caller.sendto(st.response_to(got, 200, "OK", None), (LOCAL, srv.port))
                ok = cli.next()
                assert st.parse_status(ok)[0] == 200, ok[:80]
                assert st.header(ok, "CSeq") == ["1 BYE"], st.header(ok, "CSeq")
            finally:
                cli.close()
        finally:
            conn.close()


def test_untrusted_hop(srv, bad):
    """The hop's certificate is not from the CA in [tls] ca_file: siphond
    refuses the connection (RFC 3261 §26.3.1); the caller hears of it at
    once, well before Timer B (32 s)."""
    with st.udp_socket() as caller:
        call_id = "%08x@untrusted" % random.getrandbits(32)
        caller.sendto(invite(srv, caller, "sip:peer@example.org", call_id, "u1"),
                      (LOCAL, srv.port))
        conn, err = bad.accept()
        assert conn is None, "the handshake with an untrusted certificate went through"
        resp, _ = st.final_response(srv, caller)
        assert st.parse_status(resp)[:2] == (500, "Next Hop Unavailable"), resp[:80]
        assert srv.wait_log("certificate verification failed", 5), srv.stderr_text()[-2000:]


def test_dead_hop(srv):
    """Nothing listens at the hop (TLS, then plain TCP): the connection is
    refused; 500 at once."""
    for domain in ("example.info", "example.biz"):
        with st.udp_socket() as caller:
            caller.sendto(invite(srv, caller, "sip:peer@" + domain, "dead@" + domain, "d1"),
                          (LOCAL, srv.port))
            resp, _ = st.final_response(srv, caller)
            assert st.parse_status(resp)[:2] == (500, "Next Hop Unavailable"), (domain,
                                                                                resp[:80])


def test_named_hop(srv, named):
    """A Route naming hop.siphon.test: the peer's certificate carries that
    name and no address, and is accepted; the same peer reached as
    wrong.siphon.test is refused (the name does not match)."""
    def routed_invite(caller, host):
        """A re-INVITE (To tag: routed by its Route set, no policy asked)
        whose next hop is host."""
        req = invite(srv, caller, "sip:peer@192.0.2.9", "%s@named" % host, "n1")
        route = "Route: <sip:%s:%d;lr>, <sip:%s:%d;transport=tls;lr>\r\n" % (
            LOCAL, srv.port, host, named.port)
        req = req.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\n" + route.encode())
        return req.replace(b"To: <sip:peer@192.0.2.9>", b"To: <sip:peer@192.0.2.9>;tag=t1")

    with st.udp_socket() as caller:
        caller.sendto(routed_invite(caller, "hop.siphon.test"), (LOCAL, srv.port))
        conn, err = named.accept(why=lambda: diagnose(srv, caller))
        assert conn, "handshake with a certificate for the hop's name failed: %s\n%s" % (
            err, srv.stderr_text()[-1500:])
        try:
            fwd = conn.next()
            assert fwd.startswith(b"INVITE sip:peer@192.0.2.9 SIP/2.0\r\n"), fwd[:80]
            conn.send(st.response_to(fwd, 486, "Busy Here", None))
            code = st.parse_status(st.final_response(srv, caller)[0])[0]
            assert code == 486, code
        finally:
            conn.close()

    with st.udp_socket() as caller:
        caller.sendto(routed_invite(caller, "wrong.siphon.test"), (LOCAL, srv.port))
        conn, err = named.accept(why=lambda: diagnose(srv, caller))
        assert conn is None, "a certificate for another name was accepted"
        resp, _ = st.final_response(srv, caller)
        assert st.parse_status(resp)[:2] == (500, "Next Hop Unavailable"), resp[:80]


def main():
    args = st.setup()
    t = st.Runner()
    certs = Certs()
    far = TlsPeer(certs.cert, certs.key)
    # an untrusted hop: a certificate nobody in ca_file signed
    bad = TlsPeer(certs.other_ca, certs.other_key)
    # a peer whose certificate names hop.siphon.test only
    named = TlsPeer(*certs.issue("hop.siphon.test"))
    dead = st.free_port()
    dns = Dnsmasq(["--address=/hop.siphon.test/127.0.0.1",
                   "--address=/wrong.siphon.test/127.0.0.1"])
    try:
        tls_port = st.free_port()
        conf = ("[domains]\nserve = example.com\n[auth]\nmethods = none\n"
                "[location]\nbackend = memory\n"
                "[routes]\nexample.net = sip:%s:%d;transport=tls\n"
                "example.org = sip:%s:%d;transport=tls\n"
                "example.info = sip:%s:%d;transport=tls\n"
                "example.biz = sip:%s:%d;transport=tcp\n" % (
                    LOCAL, far.port, LOCAL, bad.port, LOCAL, dead, LOCAL, dead)
                + "[dns]\nservers = %s\n" % dns.server()
                + certs.conf(extra="ca_file = %s\n" % certs.ca))
        srv = st.Siphond(args.bin_dir, config=conf,
                         listen=["udp:%s:{port}" % LOCAL, "tls:%s:%d" % (LOCAL, tls_port)])
        srv.start()
        try:
            t.run("call across UDP and a TLS next hop, BYE back over TLS",
                  test_call, srv, certs, far, tls_port)
            t.run("untrusted TLS next hop: handshake refused, 500 at once",
                  test_untrusted_hop, srv, bad)
            t.run("TLS and TCP next hops down: 500 at once", test_dead_hop, srv)
            t.run("TLS hop by name: verified against the name (RFC 5922)",
                  test_named_hop, srv, named)
            t.check("siphond alive", srv.alive())
        finally:
            t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    finally:
        far.close()
        bad.close()
        named.close()
        dns.stop()
        certs.remove()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
