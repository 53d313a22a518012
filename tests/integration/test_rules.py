#!/usr/bin/env python3
"""siphond's answers, rule by rule (RFC 3261 §8.2, §16.3): Require at the
server itself and Proxy-Require on what it would forward (420 + Unsupported),
416, 483, 505, 501 with Allow, 481 to CANCEL, silence to ACK and to stray
responses, and 400 reason phrases that name the fault. UDP and TCP."""

import sys

import siphon_test as st


def request(srv, sp, method="OPTIONS", ruri=None, extra="", cseq_method=None, mf=70,
            version="SIP/2.0", transport="UDP"):
    ruri = ruri or "sip:127.0.0.1:%d" % srv.port
    return ("%s %s %s\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK-rules-%s;rport\r\n"
            "Max-Forwards: %d\r\n"
            "From: <sip:t@127.0.0.1>;tag=r1\r\n"
            "To: <%s>\r\n"
            "Call-ID: rules-%s@test\r\n"
            "CSeq: 7 %s\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n" % (method, ruri, version, transport, sp, method,
                                          mf, ruri, method, cseq_method or method,
                                          extra)).encode()


def udp(srv, build, timeout=1.0):
    with st.udp_socket() as s:
        sp = st.udp_source_port(s)
        return st.udp_exchange(build(sp), srv.port, sock=s, timeout=timeout)


def tcp(srv, build, timeout=1.0):
    s = st.tcp_connect(srv.port)
    try:
        sp = s.getsockname()[1]
        s.sendall(build(sp))
        msgs, _ = st.recv_messages(s, 1, timeout=timeout)
        return msgs[0] if msgs else None
    finally:
        s.close()


def expect(resp, code, reason=None, what=""):
    got, phrase = st.parse_status(resp)
    assert got == code, "%s: expected %s, got %r" % (what, code, resp[:200] if resp else None)
    if reason is not None:
        assert phrase == reason, "%s: reason %r, expected %r" % (what, phrase, reason)


def make_tests(send):
    def require_local(srv):
        r = send(srv, lambda sp: request(srv, sp, extra="Require: 100rel, foo\r\n",
                                         transport=T[send]))
        expect(r, 420, "Bad Extension", "Require at the server")
        assert st.header(r, "Unsupported") == ["100rel, foo"], st.header(r, "Unsupported")

    def proxy_require_ignored_locally(srv):
        # §8.2.2.3: a UAS ignores Proxy-Require
        r = send(srv, lambda sp: request(srv, sp, extra="Proxy-Require: foo\r\n",
                                         transport=T[send]))
        expect(r, 200, None, "Proxy-Require at the server itself")

    def proxy_require_forward(srv):
        r = send(srv, lambda sp: request(srv, sp, method="MESSAGE", ruri="sip:bob@example.com",
                                         extra="Proxy-Require: sec-agree\r\nRequire: x\r\n",
                                         transport=T[send]))
        expect(r, 420, "Bad Extension", "Proxy-Require on a request to forward")
        assert st.header(r, "Unsupported") == ["sec-agree"], st.header(r, "Unsupported")

    def scheme_416(srv):
        r = send(srv, lambda sp: request(srv, sp, ruri="mailto:bob@example.com",
                                         transport=T[send]))
        expect(r, 416, "Unsupported URI Scheme", "mailto Request-URI")

    def version_505(srv):
        r = send(srv, lambda sp: request(srv, sp, version="SIP/3.0", transport=T[send]))
        expect(r, 505, "Version Not Supported", "SIP/3.0")

    def hops_483(srv):
        r = send(srv, lambda sp: request(srv, sp, method="INVITE", ruri="sip:bob@example.com",
                                         mf=0, transport=T[send]))
        expect(r, 483, "Too Many Hops", "Max-Forwards 0")

    def not_implemented(srv):
        r = send(srv, lambda sp: request(srv, sp, method="INVITE", transport=T[send]))
        expect(r, 501, "Not Implemented", "INVITE")
        assert st.header(r, "Allow"), "501 without Allow"
        assert ";tag=" in st.header(r, "To")[0], "501 without To tag"

    def cancel_481(srv):
        r = send(srv, lambda sp: request(srv, sp, method="CANCEL", transport=T[send]))
        expect(r, 481, None, "CANCEL without a transaction")

    def ack_silent(srv):
        r = send(srv, lambda sp: request(srv, sp, method="ACK", transport=T[send]), timeout=0.5)
        assert r is None, "ACK was answered: %r" % r[:100]

    def response_dropped(srv):
        def resp(sp):
            return ("SIP/2.0 200 OK\r\nVia: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK-x\r\n"
                    "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
                    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % (T[send], sp)).encode()
        assert send(srv, resp, timeout=0.5) is None, "a stray response was answered"

    def bad_reasons(srv):
        cases = [
            (lambda sp: request(srv, sp, cseq_method="INVITE"), "CSeq Method Mismatch"),
            (lambda sp: request(srv, sp, extra="Call-ID: second@test\r\n"), "Multiple Call-ID"),
            (lambda sp: request(srv, sp, extra="Max-Forwards: 1\r\n"), "Multiple Max-Forwards"),
            (lambda sp: request(srv, sp, ruri="sip:[::1"), "Bad Request-URI"),
            (lambda sp: request(srv, sp).replace(b"From: <sip:t@127.0.0.1>;tag=r1\r\n",
                                                 b"From: \"unterminated <sip:t@h>\r\n"),
             "Bad From"),
        ]
        for build, reason in cases:
            def b(sp, build=build):
                return build(sp).replace(b"SIP/2.0/UDP", ("SIP/2.0/" + T[send]).encode())
            expect(send(srv, b), 400, reason, reason)

    return [require_local, proxy_require_ignored_locally, proxy_require_forward, scheme_416,
            version_505, hops_483, not_implemented, cancel_481, ack_silent, response_dropped,
            bad_reasons]


T = {udp: "UDP", tcp: "TCP"}


def main():
    args = st.setup()
    t = st.Runner()
    srv = st.Siphond(args.bin_dir)
    srv.start()
    try:
        for send in (udp, tcp):
            for fn in make_tests(send):
                t.run("%s %s" % (T[send].lower(), fn.__name__), fn, srv)
        t.check("siphond alive", srv.alive())
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
