#!/usr/bin/env python3
"""siphond as a stateful proxy (RFC 3261 §16) between SIPp user agents
registered through it: a basic call with Record-Route honoured, busy,
CANCEL, parallel forking (the first 200 wins, the other branch gets CANCEL),
sequential forking by q after a 503, 6xx stopping the search, Timer C,
unknown and unavailable users, no open relay. Loopback, private netns."""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import regtest as rt
import siphon_test as st

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = """[domains]
serve = example.com
[auth]
methods = none
[location]
backend = memory
[proxy]
timer_c = %d
"""


class Uas:
    """A SIPp UAS scenario on a free port, registered as user@example.com."""

    def __init__(self, scenario, calls=1, code=None, timeout=20):
        self.tmp = tempfile.mkdtemp(prefix="sipp-uas-")
        self.port = st.free_port()
        path = os.path.join(HERE, "sipp", scenario)
        if code is not None:
            # SIPp checks status codes when it loads a scenario: no keyword there
            with open(path) as f:
                text = f.read().replace("[code]", str(code))
            path = os.path.join(self.tmp, scenario)
            with open(path, "w") as f:
                f.write(text)
        cmd = ["sipp", "-sf", path, "-t", "u1",
               "-i", "127.0.0.1", "-p", str(self.port), "-m", str(calls), "-nostdin",
               "-timeout", "%ds" % timeout, "-timeout_error", "-trace_err",
               "-error_file", os.path.join(self.tmp, "err.log")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=self.tmp)
        st._live_procs.add(self.proc)
        time.sleep(0.2)  # bound before anyone calls

    def contact(self, user):
        return "<sip:%s@127.0.0.1:%d>" % (user, self.port)

    def wait(self, timeout=30):
        """Assert the scenario ran to its end (exit 0)."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
        st._live_procs.discard(self.proc)
        err = ""
        path = os.path.join(self.tmp, "err.log")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                err = f.read()[-2000:]
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert self.proc.returncode == 0, "SIPp UAS exit %s\n%s\n%s" % (
            self.proc.returncode, out.decode("utf-8", "replace")[-1500:], err)


def register(srv, user, contact, q=None):
    params = ";q=%s" % q if q is not None else ""
    msg, br = rt.register_msg(rt.new_call_id(), 1, user=user, contacts=[contact + params],
                              expires=300)
    with st.udp_socket() as s:
        resp = st.udp_exchange(msg, srv.port, sock=s, timeout=3)
    assert rt.status(resp)[0] == 200, "register %s: %s" % (user, resp[:200])


class Caller:
    """A Python UAC on UDP: INVITE, collect responses, ACK a non-2xx, CANCEL."""

    def __init__(self, srv, user):
        self.srv = srv
        self.sock = st.udp_socket()
        self.lport = self.sock.getsockname()[1]
        self.call_id = rt.new_call_id()
        self.branch = "z9hG4bK-%016x" % random.getrandbits(64)
        self.tag = "%08x" % random.getrandbits(32)
        self.ruri = "sip:%s@example.com" % user
        self.to = "<%s>" % self.ruri

    def _req(self, method, cseq_method=None, to=None, branch=None):
        return ("%s %s SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <sip:caller@example.com>;tag=%s\r\n"
                "To: %s\r\n"
                "Call-ID: %s\r\n"
                "CSeq: 1 %s\r\n"
                "Contact: <sip:caller@127.0.0.1:%d>\r\n"
                "Content-Length: 0\r\n\r\n" % (
                    method, self.ruri, self.lport, branch or self.branch, self.tag,
                    to or self.to, self.call_id, cseq_method or method, self.lport)).encode()

    def send(self, data):
        self.sock.sendto(data, ("127.0.0.1", self.srv.port))

    def invite(self):
        self.send(self._req("INVITE"))

    def recv(self, timeout=10):
        """The next response: (code, method of its CSeq, bytes)."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(65535)
        code = st.parse_status(data)[0]
        cseq = st.header(data, "CSeq")
        return code, (cseq[0].split()[-1] if cseq else ""), data

    def final(self, method="INVITE", timeout=10):
        """Wait for the final response to method; returns (code, provisional codes, bytes)."""
        seen = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, "no final response to %s (got %s)" % (method, seen)
            code, m, data = self.recv(left)
            if m != method:
                continue
            if code >= 200:
                return code, seen, data
            seen.append(code)

    def ack(self, resp):
        """ACK for a non-2xx final: same branch, To with the response's tag
        (RFC 3261 §17.1.1.3)."""
        to = st.header(resp, "To", "t")[0]
        self.send(self._req("ACK", to=to))

    def cancel(self):
        self.send(self._req("CANCEL"))

    def close(self):
        self.sock.close()


def sipp_uac(srv, user, calls=1, tmp=None, trace=False):
    tmp = tmp or tempfile.mkdtemp(prefix="sipp-uac-")
    port = st.free_port()
    cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", "pxy_uac.xml"), "-t", "u1",
           "-i", "127.0.0.1", "-p", str(port), "-s", user, "-key", "domain", "example.com",
           "-m", str(calls), "-r", "50", "-l", "10", "-nostdin", "-timeout", "20s",
           "-timeout_error", "-trace_err", "-error_file", os.path.join(tmp, "err.log"),
           "127.0.0.1:%d" % srv.port]
    if trace:
        cmd += ["-trace_msg", "-message_file", os.path.join(tmp, "msg.log")]
    p = subprocess.run(cmd, capture_output=True, timeout=40, cwd=tmp)
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    err = ""
    if os.path.exists(os.path.join(tmp, "err.log")):
        with open(os.path.join(tmp, "err.log"), errors="replace") as f:
            err = f.read()[-2000:]
    assert p.returncode == 0, "SIPp UAC exit %d\n%s\n%s\n%s" % (
        p.returncode, out[-1500:], err, srv.stderr_text()[-2000:])
    msgs = ""
    if trace:
        with open(os.path.join(tmp, "msg.log"), errors="replace") as f:
            msgs = f.read()
    shutil.rmtree(tmp, ignore_errors=True)
    return msgs


def test_basic_call(srv):
    uas = Uas("pxy_uas.xml", calls=5)
    register(srv, "bob", uas.contact("bob"))
    msgs = sipp_uac(srv, "bob", calls=5, trace=True)
    uas.wait()
    # §16.6 step 4: the 200 the caller got carries our Record-Route, and the
    # ACK and BYE went through us (the UAS only sees them via the proxy)
    rr = "Record-Route: <sip:127.0.0.1:%d;lr>" % srv.port
    assert rr in msgs, "no %r in the caller's messages:\n%s" % (rr, msgs[-3000:])
    assert "Route: <sip:127.0.0.1:%d;lr>" % srv.port in msgs.split("ACK sip:", 1)[1], \
        "the ACK did not carry the route set"


def test_busy(srv):
    uas = Uas("pxy_uas_code.xml", code=486)
    register(srv, "busy", uas.contact("busy"))
    c = Caller(srv, "busy")
    try:
        c.invite()
        code, prov, resp = c.final()
        assert code == 486, "busy: got %s" % code
        assert 180 in prov, "the 180 was not passed upstream: %s" % prov
        c.ack(resp)
    finally:
        c.close()
    uas.wait()  # the UAS got its ACK from the proxy's client transaction


def test_cancel(srv):
    uas = Uas("pxy_uas_ring.xml")
    register(srv, "ringing", uas.contact("ringing"))
    c = Caller(srv, "ringing")
    try:
        c.invite()
        code, m, _ = c.recv()
        while code == 100:
            code, m, _ = c.recv()
        assert code == 180, "expected 180, got %s" % code
        c.cancel()
        code, _, _ = c.final("CANCEL")
        assert code == 200, "CANCEL got %s" % code
        code, _, resp = c.final("INVITE")
        assert code == 487, "INVITE after CANCEL got %s" % code
        c.ack(resp)
    finally:
        c.close()
    uas.wait()


def test_cancel_race(srv):
    """CANCEL right behind the INVITE, the callee answering 200 at once: the
    CANCEL gets 200, the INVITE its 200 (§16.10: a 2xx is never held back),
    and the call is then ACKed and hung up along the route set."""
    uas = Uas("pxy_uas_fast.xml")
    register(srv, "racer", uas.contact("racer"))
    c = Caller(srv, "racer")
    try:
        c.invite()
        c.cancel()
        got = {}
        end = time.monotonic() + 10
        while len(got) < 2 and time.monotonic() < end:
            code, m, data = c.recv(end - time.monotonic())
            if code >= 200:
                got[m] = (code, data)
        assert got.get("CANCEL", (0,))[0] == 200, "CANCEL: %s" % got.get("CANCEL")
        code, ok = got.get("INVITE", (0, b""))
        assert code == 200, "INVITE: %s" % code
        # ACK and BYE along the Record-Route set to the callee's Contact
        to = st.header(ok, "To", "t")[0]
        target = st.header(ok, "Contact", "m")[0].strip("<>").split(">")[0]
        route = st.header(ok, "Record-Route")[0]
        for method, cseq in (("ACK", 1), ("BYE", 2)):
            br = "z9hG4bK-%s%08x" % (method, random.getrandbits(32))
            c.send(("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
                    "Route: %s\r\nMax-Forwards: 70\r\nFrom: <sip:caller@example.com>;tag=%s\r\n"
                    "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n" % (
                        method, target, c.lport, br, route, c.tag, to, c.call_id, cseq,
                        method)).encode())
        code, _, _ = c.final("BYE")
        assert code == 200, "BYE: %s" % code
    finally:
        c.close()
    uas.wait()


def test_fork_parallel(srv):
    answer = Uas("pxy_uas.xml")
    ring = Uas("pxy_uas_ring.xml")
    register(srv, "carol", answer.contact("carol"))
    register(srv, "carol", ring.contact("carol"))
    sipp_uac(srv, "carol")
    answer.wait()
    ring.wait()  # it was cancelled once the other branch answered (§16.7 step 10)


def test_fork_sequential(srv):
    first = Uas("pxy_uas_code.xml", code=503)
    second = Uas("pxy_uas.xml")
    register(srv, "dave", first.contact("dave"), q="1.0")
    register(srv, "dave", second.contact("dave"), q="0.5")
    sipp_uac(srv, "dave")
    first.wait()
    second.wait()


def test_6xx_stops(srv):
    first = Uas("pxy_uas_code.xml", code=603)
    with st.udp_socket() as never:
        register(srv, "erin", first.contact("erin"), q="1.0")
        register(srv, "erin", "<sip:erin@127.0.0.1:%d>" % never.getsockname()[1], q="0.5")
        c = Caller(srv, "erin")
        try:
            c.invite()
            code, _, resp = c.final()
            assert code == 603, "got %s" % code
            c.ack(resp)
        finally:
            c.close()
        never.settimeout(0.5)
        try:
            data = never.recv(65535)
            raise AssertionError("the lower-q contact was tried after a 603: %r" % data[:80])
        except socket.timeout:
            pass
    first.wait()


def test_timer_c(srv):
    """Timer C (3 s here): the ringing branch is cancelled, the caller gets
    the 487 that comes back."""
    uas = Uas("pxy_uas_ring.xml")
    register(srv, "slow", uas.contact("slow"))
    c = Caller(srv, "slow")
    try:
        c.invite()
        t0 = time.monotonic()
        code, prov, resp = c.final(timeout=15)
        took = time.monotonic() - t0
        assert code == 487, "got %s" % code
        assert took >= 2.5, "final after %.1f s, before Timer C" % took
        c.ack(resp)
    finally:
        c.close()
    uas.wait()


def test_not_found(srv):
    c = Caller(srv, "nobody")
    try:
        c.invite()
        code, _, resp = c.final()
        assert code == 404, "unknown user: %s" % code
        c.ack(resp)
    finally:
        c.close()


def test_outbound_proxy_route(srv):
    """A phone with an outbound proxy sends a new INVITE with our own Route:
    it is still looked up (§16.4 removes the Route, §16.5 the location)."""
    with st.udp_socket() as uas, st.udp_socket() as caller:
        register(srv, "obp", "<sip:obp@127.0.0.1:%d>" % uas.getsockname()[1])
        raw_invite(srv, caller, "sip:obp@example.com", route="<sip:127.0.0.1:%d;lr>" % srv.port)
        uas.settimeout(5)
        fwd = uas.recv(65535)
        assert fwd.startswith(b"INVITE sip:obp@127.0.0.1:%d" % uas.getsockname()[1]), fwd[:80]


def test_no_relay_by_route(srv):
    """Our own Route does not open the relay, and a route preloaded towards
    someone else is refused for a new request from an unauthenticated caller."""
    with st.udp_socket() as far, st.udp_socket() as caller:
        fu = "sip:x@127.0.0.1:%d" % far.getsockname()[1]
        raw_invite(srv, caller, fu, route="<sip:127.0.0.1:%d;lr>" % srv.port)
        code, _ = final_of(caller)
        assert code == 403, "foreign target behind our own Route: %s" % code
        raw_invite(srv, caller, "sip:someone@example.com",
                   route="<sip:127.0.0.1:%d;lr>" % far.getsockname()[1])
        code, data = final_of(caller)
        assert code == 403 and b"Preloaded" in data.split(b"\r\n")[0], data[:60]
        far.settimeout(0.3)
        try:
            got = far.recv(65535)
            raise AssertionError("relayed: %r" % got[:60])
        except socket.timeout:
            pass


def test_no_open_relay(srv):
    c = Caller(srv, "someone")
    c.ruri = "sip:someone@192.0.2.77"
    try:
        c.invite()
        code, _, resp = c.final()
        assert code == 403, "foreign domain: %s" % code
        c.ack(resp)
    finally:
        c.close()


def raw_invite(srv, sock, ruri, route=None, mf=70, call_id=None, branch=None, to_tag=None,
               method="INVITE", from_user="caller"):
    lport = sock.getsockname()[1]
    msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
           "Max-Forwards: %d\r\n%sFrom: <sip:%s@example.com>;tag=r1\r\n"
           "To: <sip:callee@example.com>%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"
           "Contact: <sip:caller@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % (
               method, ruri, lport, branch or "z9hG4bK-r%08x" % random.getrandbits(32), mf,
               "Route: %s\r\n" % route if route else "", from_user,
               ";tag=%s" % to_tag if to_tag else "", call_id or rt.new_call_id(), method,
               lport)).encode()
    sock.sendto(msg, ("127.0.0.1", srv.port))


def final_of(sock, timeout=5):
    sock.settimeout(timeout)
    while True:
        data = sock.recv(65535)
        if st.parse_status(data)[0] and st.parse_status(data)[0] >= 200:
            return st.parse_status(data)[0], data


def test_loop_482(srv):
    """The forwarded INVITE comes back to us with the Request-URI it had
    (a downstream element routed it back): §16.3 item 4, 482."""
    with st.udp_socket() as uas, st.udp_socket() as caller:
        register(srv, "loopy", "<sip:loopy@127.0.0.1:%d>" % uas.getsockname()[1])
        raw_invite(srv, caller, "sip:loopy@example.com")
        uas.settimeout(5)
        fwd = uas.recv(65535)
        assert fwd.startswith(b"INVITE sip:loopy@127.0.0.1:"), fwd[:80]
        # send it back, its Request-URI restored, from the UAS's socket
        back = b"INVITE sip:loopy@example.com SIP/2.0\r\n" + fwd.split(b"\r\n", 1)[1]
        uas.sendto(back, ("127.0.0.1", srv.port))
        code, _ = final_of(uas)
        assert code == 482, "a loop got %s" % code


def only_our_via(fwd, status, tag, extra=""):
    """A response to the forwarded request fwd that keeps only its top Via
    (ours): a UAS that dropped the caller's Via."""
    return ("SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\n"
            "CSeq: %s\r\n%sContent-Length: 0\r\n\r\n" % (
                status, st.header(fwd, "Via", "v")[0].split(",")[0],
                st.header(fwd, "From", "f")[0], st.header(fwd, "To", "t")[0], tag,
                st.header(fwd, "Call-ID", "i")[0], st.header(fwd, "CSeq")[0],
                extra)).encode()


def test_only_our_via_left(srv):
    """§16.7 step 3: a response whose only Via is ours was meant for us and
    is not forwarded (a broken UAS that dropped the caller's Via); the
    branch's 486 then reaches the caller as our own, with its Via."""
    with st.udp_socket() as uas, st.udp_socket() as caller:
        register(srv, "novia", "<sip:novia@127.0.0.1:%d>" % uas.getsockname()[1])
        raw_invite(srv, caller, "sip:novia@example.com")
        uas.settimeout(5)
        fwd, addr = uas.recvfrom(65535)
        for code, reason in ((180, "Ringing"), (486, "Busy Here")):
            uas.sendto(only_our_via(fwd, "%d %s" % (code, reason), "nv"), addr)
        # everything the caller gets until the 486 and a little after:
        # nothing without its own Via (the 180 must not come through)
        got = []
        caller.settimeout(5)
        while not got or st.parse_status(got[-1])[0] != 486:
            got.append(caller.recv(65535))
        caller.settimeout(0.3)
        try:
            while True:
                got.append(caller.recv(65535))
        except socket.timeout:
            pass
        for r in got:
            vias = st.header(r, "Via", "v")
            assert vias and "127.0.0.1:%d" % caller.getsockname()[1] in vias[0], r[:200]
    # a 2xx like that: not forwarded either, and the caller still gets a
    # final answer (the branch ends as 502), not silence until Timer B
    with st.udp_socket() as uas, st.udp_socket() as caller:
        register(srv, "novia2", "<sip:novia2@127.0.0.1:%d>" % uas.getsockname()[1])
        raw_invite(srv, caller, "sip:novia2@example.com")
        uas.settimeout(5)
        fwd, addr = uas.recvfrom(65535)
        uas.sendto(only_our_via(fwd, "200 OK", "nv2", "Contact: <sip:novia2@127.0.0.1:%d>\r\n"
                                % uas.getsockname()[1]), addr)
        code, final = final_of(caller)
        assert code == 502, final[:200]


def test_max_forwards_483(srv):
    with st.udp_socket() as caller:
        register(srv, "mf", "<sip:mf@127.0.0.1:9>")
        raw_invite(srv, caller, "sip:mf@example.com", mf=0)
        code, _ = final_of(caller)
        assert code == 483, "Max-Forwards 0: %s" % code


def test_strict_router(srv):
    """A strict router before us put our Record-Route URI in the
    Request-URI and the real target in the last Route (§16.4), in a dialog
    (a re-INVITE)."""
    with st.udp_socket() as uas, st.udp_socket() as caller:
        target = "sip:strict@127.0.0.1:%d" % uas.getsockname()[1]
        raw_invite(srv, caller, "sip:127.0.0.1:%d;lr" % srv.port, route="<%s>" % target,
                   to_tag="d1")
        uas.settimeout(5)
        fwd = uas.recv(65535)
        line = fwd.split(b"\r\n", 1)[0].decode()
        assert line == "INVITE %s SIP/2.0" % target, line
        assert not st.header(fwd, "Route"), "the used Route stayed: %s" % st.header(fwd, "Route")


def run_routes(t, bin_dir):
    """[routes]: another domain's requests go to its static next hop, the
    Request-URI unchanged; a domain without a route stays refused."""
    with st.udp_socket() as far:
        conf = CONF % 180 + "[routes]\nexample.net = sip:127.0.0.1:%d\n" % far.getsockname()[1]
        srv = st.Siphond(bin_dir, config=conf)
        srv.start()

        def routed():
            with st.udp_socket() as caller:
                raw_invite(srv, caller, "sip:peer@example.net")
                far.settimeout(5)
                fwd = far.recv(65535)
                assert fwd.startswith(b"INVITE sip:peer@example.net SIP/2.0"), fwd[:80]
                # answer 486 through the proxy: its Via is on top
                vias = st.header(fwd, "Via", "v")
                resp = ("SIP/2.0 486 Busy Here\r\n%sFrom: %s\r\nTo: %s;tag=far\r\n"
                        "Call-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n" % (
                            "".join("Via: %s\r\n" % v for v in vias),
                            st.header(fwd, "From", "f")[0], st.header(fwd, "To", "t")[0],
                            st.header(fwd, "Call-ID", "i")[0], st.header(fwd, "CSeq")[0])).encode()
                far.sendto(resp, ("127.0.0.1", srv.port))
                code, _ = final_of(caller)
                assert code == 486, "through the static route: %s" % code
                raw_invite(srv, caller, "sip:peer@example.org")
                code, _ = final_of(caller)
                assert code == 403, "a domain without a route: %s" % code

        try:
            t.run("[routes]: static next hop for another domain", routed)
        finally:
            t.run("routes proxy: SIGTERM -> exit 0", srv.stop)


def run_dns(t, bin_dir):
    """A next hop that is a name is resolved (RFC 3263) by the worker's
    resolver: a re-INVITE routed to <sip:far.siphon.test:PORT;lr>."""
    from test_uac_dns import Dnsmasq

    with st.udp_socket() as far, Dnsmasq(["--address=/far.siphon.test/127.0.0.1"]) as dns:
        conf = CONF % 180 + "[dns]\nservers = %s\n" % dns.server()
        srv = st.Siphond(bin_dir, config=conf)
        srv.start()

        def resolved():
            with st.udp_socket() as caller:
                raw_invite(srv, caller, "sip:peer@192.0.2.9", to_tag="d2",
                           route="<sip:127.0.0.1:%d;lr>, <sip:far.siphon.test:%d;lr>" % (
                               srv.port, far.getsockname()[1]))
                far.settimeout(5)
                fwd = far.recv(65535)
                assert fwd.startswith(b"INVITE sip:peer@192.0.2.9 SIP/2.0"), fwd[:80]
                routes = st.header(fwd, "Route")
                assert routes == ["<sip:far.siphon.test:%d;lr>" % far.getsockname()[1]], routes

        try:
            t.run("next hop by name: resolved with RFC 3263", resolved)
        finally:
            t.run("dns proxy: SIGTERM -> exit 0", srv.stop)


def reply_to(sock, req, code, reason, addr):
    """A response to req copied from its Via, From, To (tagged), Call-ID, CSeq."""
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for v in st.header(req, name):
            lines.append("%s: %s%s" % (name, v, ";tag=fo1" if name == "To" and
                                       ";tag=" not in v else ""))
    sock.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), addr)


def run_dns_failover(t, bin_dir):
    """RFC 3263 §4.3: a name resolved to several addresses (two SRV records);
    when the first does not answer (Timer B) or answers 503, the request goes
    to the next one on a new branch, and its answer reaches the caller."""
    from test_uac_dns import Dnsmasq

    with st.udp_socket() as first, st.udp_socket() as second, Dnsmasq([
            "--address=/a.siphon.test/127.0.0.1", "--address=/b.siphon.test/127.0.0.1",
            "--srv-host=_sip._udp.fo.siphon.test,a.siphon.test,%d,10,0" % first.getsockname()[1],
            "--srv-host=_sip._udp.fo.siphon.test,b.siphon.test,%d,20,0" % second.getsockname()[1],
    ]) as dns:
        conf = CONF % 180 + "[dns]\nservers = %s\n[transactions]\nt1 = 50\n" % dns.server()
        srv = st.Siphond(bin_dir, config=conf)
        srv.start()

        def failover(answer_503):
            with st.udp_socket() as caller:
                raw_invite(srv, caller, "sip:peer@192.0.2.9", to_tag="f%d" % answer_503,
                           route="<sip:127.0.0.1:%d;lr>, <sip:fo.siphon.test;lr>" % srv.port)
                first.settimeout(5)
                req1, a1 = first.recvfrom(65535)
                assert req1.startswith(b"INVITE sip:peer@192.0.2.9 SIP/2.0"), req1[:80]
                if answer_503:
                    reply_to(first, req1, 503, "Service Unavailable", a1)
                # no answer: Timer B fires after 64*T1 = 3.2 s
                second.settimeout(8)
                while True:
                    req2, a2 = second.recvfrom(65535)
                    if req2.startswith(b"INVITE"):
                        break
                b1 = st.header(req1, "Via")[0].split("branch=")[1].split(";")[0]
                b2 = st.header(req2, "Via")[0].split("branch=")[1].split(";")[0]
                assert b1 != b2, "the second address must get a new branch"
                reply_to(second, req2, 200, "OK", a2)
                code, resp = final_of(caller, timeout=5)
                assert code == 200, resp[:200]
                if answer_503:  # the 503's ACK went to the first address
                    first.settimeout(2)
                    ack = first.recv(65535)
                    assert ack.startswith(b"ACK "), ack[:80]

        try:
            t.run("RFC 3263 failover: 503 from the first SRV target, the second answers",
                  failover, True)
            t.run("RFC 3263 failover: no answer (Timer B) from the first, the second answers",
                  failover, False)
        finally:
            t.run("dns failover proxy: SIGTERM -> exit 0", srv.stop)


def run_rate_limit(t, bin_dir):
    """[proxy] rate_limit: a source over its share gets 503 with Retry-After,
    another source is not affected."""
    srv = st.Siphond(bin_dir, config=CONF % 180 + "rate_limit = 5\nrate_burst = 5\n",
                     extra=["--workers", "2"])
    srv.start()

    def limited():
        codes = []
        with st.udp_socket() as s:
            for _ in range(20):
                resp = st.udp_exchange(st.options(srv.port, st.udp_source_port(s)), srv.port,
                                       sock=s, timeout=2)
                codes.append(st.parse_status(resp)[0])
                if codes[-1] == 503:
                    assert st.header(resp, "Retry-After") == ["1"], resp
        assert codes.count(200) >= 5 and codes.count(503) >= 10, codes
        assert codes[:5] == [200] * 5, codes
        # a second source (another address) still gets through at once
        with st.udp_socket(host="127.0.0.2") as s2:
            resp = st.udp_exchange(st.options(srv.port, st.udp_source_port(s2), host="127.0.0.2",
                                              ruri="sip:127.0.0.1:%d" % srv.port),
                                   srv.port, sock=s2, timeout=2)
            assert st.parse_status(resp)[0] == 200, resp[:60]
        assert "over the rate limit" in srv.stderr_text()

    try:
        t.run("rate limit per source: 503 Retry-After", limited)
    finally:
        t.run("rate-limited proxy: SIGTERM -> exit 0", srv.stop)


def run_no_leftovers(t, bin_dir):
    """Forked calls whose losing branch ends after the 2xx (487 to our
    CANCEL) leave no context behind once their transactions are over
    (short timers: T1 = 50 ms, so 64*T1 = 3.2 s)."""
    srv = st.Siphond(bin_dir, config=CONF % 180 + "[transactions]\nt1 = 50\n")
    srv.start()

    def calls():
        for _ in range(3):
            answer = Uas("pxy_uas.xml")
            ring = Uas("pxy_uas_ring.xml")
            register(srv, "lena", answer.contact("lena"))
            register(srv, "lena", ring.contact("lena"))
            sipp_uac(srv, "lena")
            answer.wait()
            ring.wait()
            msg, _ = rt.register_msg(rt.new_call_id(), 1, user="lena", contacts=["*"], expires=0)
            with st.udp_socket() as s:
                st.udp_exchange(msg, srv.port, sock=s)
        time.sleep(4)  # every transaction of those calls has ended

    def after_408():
        """Sequential forking (§16.6): the q=1.0 contact never answers, its
        branch ends with a 408 (Timer B, 64*T1 = 3.2 s here), then the q=0.5
        contact is tried and answers."""
        with st.udp_socket() as silent:
            second = Uas("pxy_uas.xml")
            register(srv, "mia", "<sip:mia@127.0.0.1:%d>" % silent.getsockname()[1], q="1.0")
            register(srv, "mia", second.contact("mia"), q="0.5")
            t0 = time.monotonic()
            sipp_uac(srv, "mia")
            took = time.monotonic() - t0
            second.wait()
            assert took >= 3.0, "the second contact was tried after %.1f s, before Timer B" % took
            silent.settimeout(0.1)
            assert silent.recv(65535).startswith(b"INVITE sip:mia@"), "the first was not tried"

    try:
        t.run("sequential forking by q after a 408 (Timer B)", after_408)
        t.run("forked calls leave nothing open", calls)
    finally:
        t.run("no proxied request open at stop", srv.stop)
        t.check("stop log names no open request", "still open at stop" not in srv.stderr_text(),
                srv.stderr_text()[-1500:])


REDIRECT_CONF = """[domains]
serve = example.com
[auth]
methods = none
[location]
backend = memory
[redirect]
enabled = yes
moved = gone@example.com sip:gone@example.net
"""


def contacts_of(resp):
    """[(uri, params)] of every Contact value of a response."""
    out = []
    for v in st.header(resp, "Contact", "m"):
        for part in v.split(","):
            part = part.strip()
            uri = part[part.index("<") + 1:part.index(">")]
            out.append((uri, part[part.index(">") + 1:]))
    return out


def follow(resp, user):
    """Call the first Contact of a 3xx directly, as a UA following it would
    (RFC 3261 §8.1.3.4): the answer's final code."""
    uri = contacts_of(resp)[0][0]
    host, port = uri.split("@", 1)[1].split(";")[0].rsplit(":", 1)
    s = st.udp_socket()
    try:
        lport = s.getsockname()[1]
        inv = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-f%08x;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:caller@example.com>;tag=f1\r\n"
               "To: <sip:%s@example.com>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
               "Contact: <sip:caller@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % (
                   uri, lport, random.getrandbits(32), user, rt.new_call_id(), lport)).encode()
        s.sendto(inv, (host, int(port)))
        s.settimeout(5)
        while True:
            data = s.recv(65535)
            code = st.parse_status(data)[0]
            if code >= 200:
                return code
    finally:
        s.close()


def test_redirect_302(rsrv):
    uas = Uas("pxy_uas_code.xml", code=486)
    register(rsrv, "frank", uas.contact("frank"), q="0.7")
    c = Caller(rsrv, "frank")
    try:
        c.invite()
        code, _, resp = c.final()
        assert code == 302, "one binding: got %s" % code
        cs = contacts_of(resp)
        assert len(cs) == 1 and cs[0][0] == "sip:frank@127.0.0.1:%d" % uas.port, cs
        assert ";q=0.700" in cs[0][1] and ";expires=" in cs[0][1], cs
        c.ack(resp)
        assert follow(resp, "frank") == 486, "following the 302 did not reach the UAS"
    finally:
        c.close()
    # the UAS expects an ACK for its 486; the follower does not send one,
    # so it ends on its own timeout: stop it instead of waiting
    uas.proc.kill()
    uas.proc.wait(5)
    st._live_procs.discard(uas.proc)
    shutil.rmtree(uas.tmp, ignore_errors=True)


def test_redirect_300(rsrv):
    with st.udp_socket() as a, st.udp_socket() as b:
        register(rsrv, "grace", "<sip:grace@127.0.0.1:%d>" % a.getsockname()[1], q="1.0")
        register(rsrv, "grace", "<sip:grace@127.0.0.1:%d>" % b.getsockname()[1], q="0.5")
        c = Caller(rsrv, "grace")
        try:
            c.invite()
            code, _, resp = c.final()
            assert code == 300, "two bindings: got %s" % code
            cs = contacts_of(resp)
            assert [u for u, _ in cs] == ["sip:grace@127.0.0.1:%d" % a.getsockname()[1],
                                          "sip:grace@127.0.0.1:%d" % b.getsockname()[1]], cs
            assert ";q=1.000" in cs[0][1] and ";q=0.500" in cs[1][1], cs
            c.ack(resp)
        finally:
            c.close()
        # nobody was called: a redirect server does not forward
        a.settimeout(0.3)
        try:
            a.recv(65535)
            raise AssertionError("the redirect server forwarded the INVITE")
        except socket.timeout:
            pass


def test_moved_301(rsrv):
    c = Caller(rsrv, "gone")
    try:
        c.invite()
        code, _, resp = c.final()
        assert code == 301, "moved user: got %s" % code
        assert contacts_of(resp)[0][0] == "sip:gone@example.net", contacts_of(resp)
        c.ack(resp)
    finally:
        c.close()
    c = Caller(rsrv, "nobody")
    try:
        c.invite()
        code, _, resp = c.final()
        assert code == 404, "unknown user at the redirect server: %s" % code
        c.ack(resp)
    finally:
        c.close()


STATELESS_CONF = CONF % 180 + "mode = stateless\n"


def test_stateless_call(ssrv):
    uas = Uas("pxy_uas.xml", calls=5)
    register(ssrv, "henry", uas.contact("henry"))
    msgs = sipp_uac(ssrv, "henry", calls=5, trace=True)
    uas.wait()
    assert "Record-Route: <sip:127.0.0.1:%d;lr>" % ssrv.port in msgs, msgs[-2000:]


def test_stateless_busy(ssrv):
    uas = Uas("pxy_uas_code.xml", code=486)
    register(ssrv, "ivy", uas.contact("ivy"))
    c = Caller(ssrv, "ivy")
    try:
        c.invite()
        code, prov, resp = c.final()
        assert code == 486 and 180 in prov, "got %s after %s" % (code, prov)
        # §16.11: no 100 Trying from a stateless proxy
        assert 100 not in prov, "a stateless proxy sent 100: %s" % prov
        c.ack(resp)  # forwarded with the INVITE's branch: the UAS matches it
    finally:
        c.close()
    uas.wait()


AUTH_CONF = """[auth]
methods = REGISTER, INVITE
[location]
backend = memory
"""


def invite_as(srv, sock, user, callee, cseq, branch, auth=None):
    """An INVITE from user@example.com to callee@example.com; the final
    response (provisionals skipped)."""
    lport = sock.getsockname()[1]
    msg = ("INVITE sip:%s@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:%s@example.com>;tag=t%d\r\n"
           "To: <sip:%s@example.com>\r\nCall-ID: auth-%s-%d@test\r\nCSeq: %d INVITE\r\n"
           "Contact: <sip:%s@127.0.0.1:%d>\r\n%sContent-Length: 0\r\n\r\n" % (
               callee, lport, branch, user, lport, callee, user, lport, cseq, user, lport,
               "Proxy-Authorization: %s\r\n" % auth if auth else "")).encode()
    sock.sendto(msg, ("127.0.0.1", srv.port))
    sock.settimeout(10)
    while True:
        data = sock.recv(65535)
        code = st.parse_status(data)[0]
        if code >= 200 and st.header(data, "CSeq")[0].startswith("%d " % cseq):
            ack = ("ACK sip:%s@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:%s@example.com>;tag=t%d\r\nTo: %s\r\n"
                   "Call-ID: auth-%s-%d@test\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n" % (
                       callee, lport, branch, user, lport, st.header(data, "To", "t")[0], user,
                       lport, cseq)).encode()
            if code >= 300:
                sock.sendto(ack, ("127.0.0.1", srv.port))
            return code, data


def test_caller_auth(asrv):
    uas = Uas("pxy_uas_code.xml", code=486)
    register_auth(asrv, "jack", "jpw", uas.contact("jack"))
    with st.udp_socket() as s:
        code, resp = invite_as(asrv, s, "kate", "jack", 1, "z9hG4bK-a1")
        assert code == 407, "no credentials: %s" % code
        chal = rt.challenges(resp, "Proxy-Authenticate")
        assert chal and chal[0][1]["realm"] == "example.com", resp
        md5 = [p for _, p in chal if p.get("algorithm") == "MD5"][0]
        uri = "sip:jack@example.com"
        bad = rt.authorization(md5, "kate", "wrong", uri, 1, method="INVITE")
        code, _ = invite_as(asrv, s, "kate", "jack", 2, "z9hG4bK-a2", auth=bad)
        assert code == 403, "wrong password: %s" % code
        spoof = rt.authorization(md5, "kate", "kpw", uri, 2, method="INVITE")
        code, _ = invite_as(asrv, s, "jack", "jack", 3, "z9hG4bK-a3", auth=spoof)
        assert code == 403, "From jack, credentials of kate: %s" % code
        good = rt.authorization(md5, "kate", "kpw", uri, 3, method="INVITE")
        code, _ = invite_as(asrv, s, "kate", "jack", 4, "z9hG4bK-a4", auth=good)
        assert code == 486, "authenticated call did not reach the callee: %s" % code
    uas.wait()


def register_auth(srv, user, password, contact):
    ua = rt.UA(srv.port, user=user, password=password)
    try:
        resp = ua.register(contacts=[contact], expires=300)
        assert rt.status(resp)[0] == 200, resp
    finally:
        ua.close()


def main():
    args = st.setup()
    t = st.Runner()
    srv = st.Siphond(args.bin_dir, config=CONF % 3, extra=["--workers", "2"])
    try:
        srv.start()
    except Exception as e:  # noqa: BLE001
        t.check("siphond starts", False, str(e))
        return t.finish()
    try:
        t.run("basic call, Record-Route honoured (SIPp both ends)", test_basic_call, srv)
        t.run("busy: 486 passed upstream, ACKed", test_busy, srv)
        t.run("CANCEL: 200, then 487", test_cancel, srv)
        t.run("CANCEL racing a 200: both 200, the call goes on", test_cancel_race, srv)
        t.run("parallel forking: 200 wins, the other branch cancelled", test_fork_parallel, srv)
        t.run("sequential forking by q after a 503", test_fork_sequential, srv)
        t.run("6xx stops the search", test_6xx_stops, srv)
        t.run("Timer C cancels a ringing branch", test_timer_c, srv)
        t.run("unknown user: 404", test_not_found, srv)
        t.run("loop detected: 482", test_loop_482, srv)
        t.run("Max-Forwards exhausted: 483", test_max_forwards_483, srv)
        t.run("a response with only our Via is not forwarded (§16.7 step 3)",
              test_only_our_via_left, srv)
        t.run("strict router upstream: Request-URI from the last Route", test_strict_router, srv)
        t.run("foreign domain: 403, no open relay", test_no_open_relay, srv)
        t.run("outbound proxy: our Route on a new INVITE, still looked up",
              test_outbound_proxy_route, srv)
        t.run("no relay through our own or a preloaded Route", test_no_relay_by_route, srv)
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
    ssrv = st.Siphond(args.bin_dir, config=STATELESS_CONF, extra=["--workers", "2"])
    ssrv.start()
    try:
        t.run("stateless: basic call, Record-Route honoured", test_stateless_call, ssrv)
        t.run("stateless: 486 and its ACK", test_stateless_busy, ssrv)
    finally:
        t.run("stateless proxy: SIGTERM -> exit 0", ssrv.stop)
    run_routes(t, args.bin_dir)
    run_no_leftovers(t, args.bin_dir)
    run_rate_limit(t, args.bin_dir)
    run_dns(t, args.bin_dir)
    run_dns_failover(t, args.bin_dir)
    tmp = tempfile.mkdtemp(prefix="siphond-pxauth-")
    asrv = rt.RegSiphond(args.bin_dir, os.path.join(tmp, "data"), config=AUTH_CONF,
                         users={"jack": "jpw", "kate": "kpw"})
    try:
        asrv.start()
        t.run("caller authentication: 407, 403 wrong password or identity, then through",
              test_caller_auth, asrv)
    finally:
        t.run("auth proxy: SIGTERM -> exit 0", asrv.stop)
        shutil.rmtree(tmp, ignore_errors=True)
    rsrv = st.Siphond(args.bin_dir, config=REDIRECT_CONF)
    rsrv.start()
    try:
        t.run("redirect: 302 with the contact, followed by the caller", test_redirect_302, rsrv)
        t.run("redirect: 300 with every contact by q", test_redirect_300, rsrv)
        t.run("redirect: 301 for a moved user, 404 for an unknown one", test_moved_301, rsrv)
    finally:
        t.run("redirect server: SIGTERM -> exit 0", rsrv.stop)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
