#!/usr/bin/env python3
"""RFC 4475 / RFC 5118 torture corpus against siphond, over UDP then TCP.

Each message is sent from 127.0.0.1:P, P being the port of its top Via
sent-by (when it has none, the transport's default: 5061 for TLS, else
5060; 5060 when there is no Via), because the server answers to the source
address at the Via port (RFC 3261 §18.2.2). The corpus names foreign hosts
(192.0.2.x, example.com): the script runs in a private network namespace."""

import glob
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402

NO_REPLY_WAIT = 0.5

# Expected outcome over UDP: a status code, or None (no reply within 0.5 s).
UDP_EXPECT = {
    "rfc4475/badaspec": 400, "rfc4475/badbranch": 501, "rfc4475/baddate": 501,
    "rfc4475/baddn": 400, "rfc4475/badinv01": 400, "rfc4475/badvers": 505,
    "rfc4475/bcast": None, "rfc4475/bext01": 420, "rfc4475/bigcode": None,
    "rfc4475/clerr": 400, "rfc4475/cparam01": 200, "rfc4475/cparam02": 200,
    "rfc4475/dblreq": 200, "rfc4475/esc01": 501, "rfc4475/esc02": 501,
    "rfc4475/escnull": 200, "rfc4475/escruri": 400, "rfc4475/insuf": 400,
    "rfc4475/intmeth": 501, "rfc4475/inv2543": 501, "rfc4475/invut": 501,
    "rfc4475/longreq": 501, "rfc4475/ltgtruri": 400, "rfc4475/lwsdisp": 501,
    "rfc4475/lwsruri": 400, "rfc4475/lwsstart": 400, "rfc4475/mcl01": 400,
    "rfc4475/mismatch01": 400, "rfc4475/mismatch02": 400, "rfc4475/mpart01": 501,
    "rfc4475/multi01": 400, "rfc4475/ncl": 400, "rfc4475/noreason": None,
    "rfc4475/novelsc": 416, "rfc4475/quotbal": 400, "rfc4475/regaut01": 200,
    "rfc4475/regbadct": 400, "rfc4475/regescrt": 200, "rfc4475/scalar02": 400,
    "rfc4475/scalarlg": None, "rfc4475/sdp01": 501, "rfc4475/semiuri": 501,
    "rfc4475/test": None,  # no Via at all: nowhere to send a 400
    "rfc4475/transports": 501, "rfc4475/trws": 400,
    "rfc4475/unkscm": 416, "rfc4475/unksm2": 400, "rfc4475/unreason": None,
    "rfc4475/wsinv": 501, "rfc4475/zeromf": 483,
    "rfc4475/derived/baddn": 400,
    # the RFC 5118 archive files use bare LF line ends: not SIP, dropped
    "rfc5118/ipv4-mapped-ipv6": None, "rfc5118/ipv6-bad": None,
    "rfc5118/ipv6-bug-abnf-3-colons": None, "rfc5118/ipv6-correct-abnf-2-colons": None,
    "rfc5118/ipv6-good": None, "rfc5118/ipv6-in-sdp": None,
    "rfc5118/mult-ip-in-header": None, "rfc5118/mult-ip-in-sdp": None,
    "rfc5118/port-ambiguous": None, "rfc5118/port-unambiguous": None,
    "rfc5118/via-received-param-no-delim": None,
    "rfc5118/via-received-param-with-delim": None,
    "rfc5118/derived/ipv6-bad": 400,
}
RFC5118_DERIVED_DEFAULT = 501
# REGISTERs whose Request-URI is [2001:db8::10], a domain this server does
# not serve (RFC 3261 §10.3 step 1): they parse, and are refused
RFC5118_DERIVED_REGISTER = {"ipv6-good": 403, "port-ambiguous": 403, "port-unambiguous": 403}

# The server serves the torture tests' domain with authentication off, so
# that their REGISTERs reach the registrar's own checks (RFC 3261 §10.3):
# regbadct's Contact and unksm2's To are refused with 400, the valid ones
# are bound (regaut01's unknown Authorization scheme is ignored, which
# RFC 4475 §3.1.2.9 allows a registrar that does not challenge).
SERVER_CONFIG = ("[domains]\nserve = example.com\n[auth]\nmethods = none\n[location]\n"
                 "backend = memory\n")
# The table above is what siphond answers itself (the proxy off: 501 for
# what it would route). A last phase sends everything again to a server
# that proxies, and only asks that it survives and keeps serving.
NO_PROXY = "[proxy]\nenabled = no\n"

# Over TCP: the same, except where stream framing changes the outcome.
# Values are (code, closed_after) or None; closed_after None = not checked.
TCP_DIFF = {
    "rfc4475/clerr": None,             # Content-Length beyond the data: waits for more
    "rfc4475/inv2543": (400, True),    # no Content-Length on a stream (RFC 3261 §18.3)
    "rfc4475/ncl": (400, True),
    "rfc4475/mcl01": (400, True),
    "rfc4475/baddn": None,             # the archive file has no empty line: incomplete
}

# Streams carrying several requests: each gets its own answer, in whatever
# order they are ready. dblreq's REGISTER is bound, but its 200 waits for
# the location service, and by then the connection is closed: the octets
# after the INVITE are not a SIP message, so framing is lost (RFC 3261
# §18.3) and only the INVITE's 501 went out first. (Over UDP the datagram's
# first request counts and gets its 200.)
TCP_MULTI = {"rfc4475/dblreq": {"INVITE": 501}}

# 400s must say what is wrong, not just "Bad Request"; some say exactly what.
REASON_HAS = {"rfc4475/scalar02": "CSeq"}


def corpus_files(corpus):
    pats = ["rfc4475/*.dat", "rfc4475/derived/*.dat", "rfc5118/*.dat", "rfc5118/derived/*.dat"]
    out = []
    for p in pats:
        for f in sorted(glob.glob(os.path.join(corpus, p))):
            key = os.path.relpath(f, corpus)[:-4]
            out.append((key, f))
    return out


def expected_udp(key):
    if key in UDP_EXPECT:
        return UDP_EXPECT[key]
    if key.startswith("rfc5118/derived/"):
        return RFC5118_DERIVED_REGISTER.get(key[len("rfc5118/derived/"):],
                                            RFC5118_DERIVED_DEFAULT)
    raise KeyError("no expectation for %s: add it to the table" % key)


def expected_tcp(key):
    if key in TCP_DIFF:
        return TCP_DIFF[key]
    code = expected_udp(key)
    return None if code is None else (code, None)


VIA_RE = re.compile(rb"^(?:via|v)[ \t]*:[ \t]*(.*(?:\r?\n[ \t]+.*)*)", re.I | re.M)


def via_port(data):
    """Port of the top Via sent-by; 5060 when absent or unusable."""
    head = re.split(rb"\r?\n\r?\n", data, 1)[0]
    m = VIA_RE.search(head)
    if not m:
        return 5060
    value = re.sub(rb"\r?\n[ \t]+", b" ", m.group(1)).decode("latin-1")
    value = value.split(",")[0]
    # SIP / 2.0 / UDP host[:port] ;params
    m = re.match(r"\s*[^/\s]+\s*/\s*[^/\s]+\s*/\s*(\S+)\s+(\[[^\]]*\]|[^;:\s]+)\s*"
                 r"(?::\s*(\d+))?", value)
    if not m:
        return 5060
    if not m.group(3):
        # the transport's default port (RFC 3261 §18.2.2, §19.1.2)
        return 5061 if m.group(1).upper() == "TLS" else 5060
    port = int(m.group(3))
    return port if 0 < port < 65536 else 5060


def status_of(resp):
    return st.parse_status(resp)


def exchange_new(data, port, sock, timeout, seen):
    """Send data and return the first reply that is not a copy of an earlier
    one: siphond's INVITE server transactions retransmit their final
    response (Timer G, RFC 3261 §17.2.1) to the same source port."""
    sock.sendto(data, ("127.0.0.1", port))
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            resp = sock.recv(65535)
        except socket.timeout:
            return None
        if resp not in seen:
            seen.add(resp)
            return resp


TSX_KEY = re.compile(rb"\r\n(?:via|v)[ \t]*:[ \t]*sip[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*\w+[ \t]+"
                     rb"([^;\s,]+)[^\r\n]*?branch=([^;\s,]+)", re.I)


def tsx_key(data):
    """(sent-by, branch, method) of a request (RFC 3261 §17.2.3), or None."""
    if data.startswith(b"SIP/"):
        return None
    m = TSX_KEY.search(data)
    return (m.group(1).lower(), m.group(2), data.split(b" ", 1)[0]) if m else None


def test_udp(t, srv, files):
    seen = set()
    keys = set()
    for key, path in files:
        data = open(path, "rb").read()
        # several torture messages share a branch and sent-by: to siphond's
        # transaction layer the later one is a retransmission of the earlier
        # (and gets its response again), so it goes to a fresh server
        k = tsx_key(data)
        if k in keys:
            srv.stop()
            srv.start()
            keys.clear()
        if k:
            keys.add(k)
        want = expected_udp(key)
        sp = via_port(data)
        if sp == srv.port:
            sp = 5060
        try:
            with st.udp_socket(sp) as s:
                resp = exchange_new(data, srv.port, s,
                                    NO_REPLY_WAIT if want is None else 2.0, seen)
        except OSError as e:
            t.check("udp %s" % key, False, "socket error from port %d: %s" % (sp, e))
            continue
        code, reason = status_of(resp)
        ok = code == want
        detail = "expected %s, got %s %r" % (want, code, reason)
        if ok and code == 400:
            if reason.strip().lower() == "bad request":
                ok, detail = False, "400 with the bare reason 'Bad Request'"
            if key in REASON_HAS and REASON_HAS[key].lower() not in reason.lower():
                ok, detail = False, "reason %r lacks %r" % (reason, REASON_HAS[key])
        t.check("udp %s -> %s" % (key, want), ok, detail)
        if not srv.alive():
            t.check("siphond alive after udp %s" % key, False, srv.stderr_text()[-2000:])
            return False
    return True


def tcp_multi(t, srv, key, data):
    want = TCP_MULTI[key]
    s = st.tcp_connect(srv.port)
    try:
        s.sendall(data)
        msgs, _ = st.recv_messages(s, len(want), 2.0)
    finally:
        s.close()
    got = {}
    for m in msgs:
        cseq = st.header(m, "CSeq")
        got[cseq[0].split()[-1] if cseq else "?"] = status_of(m)[0]
    t.check("tcp %s -> %s" % (key, want), got == want, "got %s" % got)


def test_tcp(t, srv, files):
    for key, path in files:
        data = open(path, "rb").read()
        if key in TCP_MULTI:
            tcp_multi(t, srv, key, data)
            continue
        want = expected_tcp(key)
        try:
            s = st.tcp_connect(srv.port)
        except OSError as e:
            t.check("tcp %s" % key, False, "connect: %s" % e)
            continue
        try:
            s.sendall(data)
            msgs, closed = st.recv_messages(s, 1, NO_REPLY_WAIT if want is None else 2.0)
            if msgs and want and want[1] and not closed:
                closed = st.wait_closed(s, 2.0)
        except OSError as e:
            msgs, closed = [], True
            if want is not None:
                t.check("tcp %s" % key, False, "socket error: %s" % e)
                continue
        finally:
            s.close()
        code, reason = status_of(msgs[0] if msgs else None)
        if want is None:
            t.check("tcp %s -> None" % key, code is None, "got %s %r" % (code, reason))
        else:
            ok = code == want[0]
            detail = "expected %s, got %s %r" % (want[0], code, reason)
            if ok and want[1] is not None and closed != want[1]:
                ok, detail = False, "connection %sclosed after the reply" % (
                    "" if closed else "not ")
            t.check("tcp %s -> %s" % (key, want[0]), ok, detail)
        if not srv.alive():
            t.check("siphond alive after tcp %s" % key, False, srv.stderr_text()[-2000:])
            return False
    return True


def still_serving(srv):
    with st.udp_socket() as s:
        resp = st.udp_exchange(st.options(srv.port, st.udp_source_port(s)), srv.port, sock=s)
    assert st.parse_status(resp)[0] == 200, "no 200 to OPTIONS after the corpus: %r" % resp
    resp, _ = st.tcp_exchange(st.options(srv.port, 1, transport="TCP"), srv.port)
    assert st.parse_status(resp)[0] == 200, "no 200 to OPTIONS over TCP after the corpus"


def main():
    args = st.setup()
    t = st.Runner()
    if not args.corpus or not os.path.isdir(args.corpus):
        t.check("corpus present", False, "no corpus at %r" % args.corpus)
        return t.finish()
    files = corpus_files(args.corpus)
    t.check("corpus has files", len(files) >= 60, "only %d files" % len(files))
    try:
        srv = st.Siphond(args.bin_dir, config=SERVER_CONFIG + NO_PROXY)
        srv.start()
    except Exception as e:  # noqa: BLE001
        t.check("siphond starts", False, str(e))
        return t.finish()
    try:
        udp_ok = test_udp(t, srv, files)
        if srv.alive():
            t.run("OPTIONS still answered after UDP", still_serving, srv)
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    if not udp_ok:
        return t.finish()
    # a fresh server for the stream phase: the same bytes over TCP would be
    # retransmissions of the UDP phase's transactions (§17.2.3 ignores the
    # transport), answered from those transactions
    srv = st.Siphond(args.bin_dir, config=SERVER_CONFIG + NO_PROXY)
    srv.start()
    try:
        test_tcp(t, srv, files)
        if srv.alive():
            t.run("OPTIONS still answered after TCP", still_serving, srv)
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report (TCP)", srv.stop)
    # the proxy on: every message once more over UDP, whatever it answers
    srv = st.Siphond(args.bin_dir, config=SERVER_CONFIG)
    srv.start()
    try:
        with st.udp_socket() as s:
            for key, path in files:
                data = open(path, "rb").read()
                s.sendto(data, ("127.0.0.1", srv.port))
                if not srv.alive():
                    t.check("proxying siphond alive after %s" % key, False,
                            srv.stderr_text()[-2000:])
                    break
        if srv.alive():
            t.run("OPTIONS still answered by the proxy after the corpus", still_serving, srv)
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report (proxy)", srv.stop)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
