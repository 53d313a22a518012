#!/usr/bin/env python3
"""siphond's HTTP interface (docs/http.md) against real SIP traffic:
/metrics parses as the Prometheus text format and its counters move after
REGISTERs (challenge, success, wrong password), a malformed message and a
proxied call (latency histograms included); /api/health, /api/stats and
/api/location (all, paginated, one AoR in any spelling) as JSON; DELETE
/api/location really removes bindings (a SIP fetch afterwards shows none);
the server binds only the configured address, is off by default, and
survives garbage requests. Loopback, private netns."""

import json
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request

import regtest as rt
import siphon_test as st

USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}


def conf(hport):
    # short Timer D and T4 so that a call's context ends within the test
    return ("[http]\nlisten = 127.0.0.1:%d\n[transactions]\nt4 = 500\ntimer_d = 500\n" % hport)


class Http:
    def __init__(self, port, host="127.0.0.1"):
        self.base = "http://%s:%d" % (host, port)
        self.port = port

    def req(self, path, method="GET"):
        """(status, content type, body bytes)."""
        r = urllib.request.Request(self.base + path, method=method)
        try:
            with urllib.request.urlopen(r, timeout=10) as f:
                return f.status, f.headers.get("Content-Type", ""), f.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def json(self, path, method="GET", want=200):
        code, ctype, body = self.req(path, method)
        assert code == want, "%s %s: HTTP %d: %r" % (method, path, code, body[:300])
        assert ctype.startswith("application/json"), ctype
        return json.loads(body)

    def metrics(self):
        code, ctype, body = self.req("/metrics")
        assert code == 200, code
        assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
        return parse_prom(body.decode())


# ---------------------------------------------------------------- Prometheus

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (\S+)$" % (NAME, LABEL, LABEL))


def parse_prom(text):
    """Strict parse of the text exposition format 0.0.4: every sample's family
    has one TYPE line before it, values are numbers, histogram buckets are
    cumulative with +Inf = _count. Returns {(name, frozenset(labels)): value}."""
    assert text.endswith("\n"), "no final newline"
    types, helps, out = {}, set(), {}
    for ln in text.split("\n")[:-1]:
        if ln.startswith("# HELP "):
            name = ln.split(" ")[2]
            assert re.fullmatch(NAME, name), ln
            assert name not in helps, "HELP twice: " + name
            helps.add(name)
            continue
        if ln.startswith("# TYPE "):
            parts = ln.split(" ")
            assert len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram",
                                                     "summary", "untyped"), ln
            assert parts[2] not in types, "TYPE twice: " + parts[2]
            types[parts[2]] = parts[3]
            continue
        assert not ln.startswith("#") and ln.strip(), "stray line %r" % ln
        m = SAMPLE.match(ln)
        assert m, "bad sample line %r" % ln
        name, labels, value = m.group(1), m.group(2), m.group(3)
        v = float(value)  # raises on garbage; +Inf/NaN are valid floats too
        fam = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert fam in types, "sample before its TYPE: %s" % name
        if types[fam] == "counter":
            assert v >= 0 and name.endswith("_total"), ln
        lab = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
        assert (name, lab) not in out, "duplicate series " + ln
        out[(name, lab)] = v
    for fam, ty in types.items():
        if ty != "histogram":
            continue
        buckets = sorted(((float(dict(lab)["le"]), v) for (n, lab), v in out.items()
                          if n == fam + "_bucket"))
        assert buckets and buckets[-1][0] == float("inf"), fam + ": no +Inf bucket"
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), fam + ": buckets not cumulative"
        assert counts[-1] == out[(fam + "_count", frozenset())], fam + ": +Inf != _count"
        assert (fam + "_sum", frozenset()) in out
    return out


def val(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


# ---------------------------------------------------------------- helpers

def wait_for(cond, timeout=5.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def ua(srv, user, **kw):
    return rt.UA(srv.port, user, password=USERS[user], **kw)


class Callee:
    """A UDP 'phone' registered as a user: answers each INVITE with 180
    then the given final code, and takes the ACK."""

    def __init__(self):
        self.sock = st.udp_socket()
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()

    def answer(self, final=486, timeout=5):
        self.sock.settimeout(timeout)
        data, peer = self.sock.recvfrom(65535)
        text = data.decode()
        assert text.startswith("INVITE "), text[:200]
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        keep = [h for h in head[1:] if re.match(r"(?i)(via|from|call-id|cseq|record-route):", h)]
        to = [h for h in head[1:] if re.match(r"(?i)to:", h)][0] + ";tag=callee1"
        for code, reason in ((180, "Ringing"), (final, "Busy Here")):
            resp = "SIP/2.0 %d %s\r\n%s\r\n%s\r\nContent-Length: 0\r\n\r\n" % (
                code, reason, "\r\n".join(keep), to)
            self.sock.sendto(resp.encode(), peer)
        # the proxy ACKs our non-2xx final (§17.1.1.3)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            if data.startswith(b"ACK "):
                return True
        return False


def invite(srv, sock, callee):
    lport = sock.getsockname()[1]
    br = "z9hG4bK-h%08x" % random.getrandbits(32)
    call_id = rt.new_call_id()
    msg = ("INVITE sip:%s@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
           "From: <sip:caller@example.com>;tag=c1\r\nTo: <sip:%s@example.com>\r\n"
           "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:%d>\r\n"
           "Content-Length: 0\r\n\r\n" % (callee, lport, br, callee, call_id, lport))
    sock.sendto(msg.encode(), ("127.0.0.1", srv.port))
    return br, call_id


def ack(srv, sock, br, call_id, to):
    """§17.1.1.3: the ACK of a non-2xx final, same branch as the INVITE."""
    lport = sock.getsockname()[1]
    msg = ("ACK sip:carol@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
           "From: <sip:caller@example.com>;tag=c1\r\nTo: %s\r\n"
           "Call-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n" % (lport, br, to, call_id))
    sock.sendto(msg.encode(), ("127.0.0.1", srv.port))


# ---------------------------------------------------------------- tests

def test_metrics_format(h):
    m = h.metrics()
    for name in ("siphon_sip_requests_received_total", "siphon_parse_errors_total",
                 "siphon_auth_failures_total", "siphon_rate_limited_total",
                 "siphon_transactions_active", "siphon_registrations_bindings",
                 "siphon_registrations_aors", "siphon_calls_total",
                 "siphon_proxy_contexts_active", "siphon_register_latency_seconds_count",
                 "siphon_invite_first_response_latency_seconds_count"):
        assert any(k[0] == name for k in m), "no series " + name
    assert val(m, "siphon_workers") == 2


def test_counters_move(h, srv):
    before = h.metrics()
    with ua(srv, "alice") as a:
        resp = a.register(contacts=[a.contact()], expires=600)
        assert rt.status(resp)[0] == 200, resp
    with ua(srv, "bob") as b:
        resp = b.register(password="wrong", contacts=[b.contact()], expires=600)
        assert rt.status(resp)[0] == 403, resp
    # a request that does not parse (bad CSeq) gets a 400 and is counted
    with st.udp_socket() as s:
        bad = (b"OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-x1;rport\r\n"
               b"From: <sip:x@example.com>;tag=1\r\nTo: <sip:example.com>\r\nCall-ID: bad1\r\n"
               b"CSeq: nonsense\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        resp = st.udp_exchange(bad, srv.port, sock=s, timeout=3)
        assert rt.status(resp)[0] == 400, resp
    after = h.metrics()

    def d(name, **lab):
        return val(after, name, **lab) - val(before, name, **lab)

    def check(want, name, **lab):
        got = d(name, **lab)
        assert got == want, "%s%s moved by %s, wanted %s" % (name, lab or "", got, want)

    check(4, "siphon_sip_requests_received_total", method="REGISTER")
    check(2, "siphon_sip_responses_sent_total", code="401", **{"class": "4xx"})
    check(1, "siphon_sip_responses_sent_total", code="200", **{"class": "2xx"})
    check(1, "siphon_sip_responses_sent_total", code="403", **{"class": "4xx"})
    check(1, "siphon_sip_responses_sent_total", code="400", **{"class": "4xx"})
    check(2, "siphon_auth_challenges_total")
    check(1, "siphon_auth_failures_total")
    check(1, "siphon_parse_errors_total")
    check(1, "siphon_register_latency_seconds_count")
    assert val(after, "siphon_registrations_bindings") == 1
    assert val(after, "siphon_registrations_aors") == 1
    assert val(after, "siphon_uptime_seconds") > 0


def test_proxied_call(h, srv):
    before = h.metrics()
    callee = Callee()
    try:
        with ua(srv, "carol") as c:
            resp = c.register(contacts=["<sip:carol@127.0.0.1:%d>" % callee.port], expires=600)
            assert rt.status(resp)[0] == 200, resp
        with st.udp_socket() as s:
            br, call_id = invite(srv, s, "carol")
            assert callee.answer(486), "the proxy did not ACK the 486"
            s.settimeout(5)
            codes = []
            while 486 not in codes:
                data = s.recv(65535)
                codes.append(st.parse_status(data)[0])
            assert 180 in codes, codes
            ack(srv, s, br, call_id, st.header(data, "To", "t")[0])
    finally:
        callee.close()
    after = h.metrics()

    def d(name, **lab):
        return val(after, name, **lab) - val(before, name, **lab)

    assert d("siphon_calls_total") == 1
    assert d("siphon_proxy_contexts_total") == 1
    assert d("siphon_sip_requests_received_total", method="INVITE") == 1
    assert d("siphon_sip_responses_sent_total", code="180", **{"class": "1xx"}) == 1
    assert d("siphon_sip_responses_sent_total", code="486", **{"class": "4xx"}) == 1
    assert d("siphon_sip_responses_received_total") >= 2
    assert d("siphon_invite_first_response_latency_seconds_count") == 1
    assert d("siphon_invite_final_response_latency_seconds_count") == 1
    assert d("siphon_invite_final_response_latency_seconds_sum") < 5
    stats = h.json("/api/stats")
    assert stats["calls"]["total"] >= 1
    assert stats["latency"]["invite_first_response"]["count"] >= 1
    # the context ends with its server transaction (Timer I after the ACK)
    wait_for(lambda: val(h.metrics(), "siphon_proxy_contexts_active") == 0, 12,
             "the proxy context to end")


def test_health(h, srv):
    j = h.json("/api/health")
    assert j["status"] == "ok" and j["pid"] == srv.proc.pid, j
    assert j["workers"] == 2 and j["version"] and j["uptime_s"] >= 0, j
    assert j["location"]["backend"] == "sqlite" and j["location"]["state"] == "up", j


def test_stats(h):
    j = h.json("/api/stats")
    for key in ("requests", "responses", "transactions_active", "parse_errors",
                "auth_failures", "rate_limited", "calls", "latency", "registrations"):
        assert key in j, key
    assert j["requests"]["by_method"]["REGISTER"] >= 4, j["requests"]
    assert j["registrations"]["aors"] >= 1, j


def test_location(h, srv):
    with ua(srv, "bob") as b:
        resp = b.register(contacts=[b.contact(params=";q=0.5")], expires=600)
        assert rt.status(resp)[0] == 200, resp
        bob_contact, bob_port = b.contact_uri(), b.local_port
    j = h.json("/api/location")
    aors = {a["aor"]: a["contacts"] for a in j["list"]}
    assert j["aors"] == len(j["list"]) >= 2, j
    assert "sip:alice@example.com" in aors and "sip:bob@example.com" in aors, aors
    (bc,) = aors["sip:bob@example.com"]
    assert bc["contact"] == bob_contact and bc["q"] == 0.5, bc
    assert bc["received"] == "udp:127.0.0.1:%d" % bob_port, bc
    assert 500 <= bc["expires_in"] <= 600 and bc["user_agent"] == "regtest", bc
    # one AoR, however it is spelled
    for spelling in ("sip:bob@example.com", "sip:bob@EXAMPLE.COM", "sip:%62ob@example.com"):
        one = h.json("/api/location?aor=" + urllib.request.quote(spelling, safe=""))
        assert one["aor"] == "sip:bob@example.com", one
        assert [c["contact"] for c in one["contacts"]] == [bob_contact], one
    assert h.json("/api/location?aor=sip:nobody@example.com")["contacts"] == []
    # pages
    p1 = h.json("/api/location?limit=1")
    p2 = h.json("/api/location?limit=1&offset=1")
    assert len(p1["list"]) == 1 and len(p2["list"]) == 1, (p1, p2)
    assert p1["list"][0]["aor"] != p2["list"][0]["aor"]
    assert h.json("/api/location?offset=1000")["list"] == []


def test_flush(h, srv):
    with ua(srv, "alice") as a:
        assert a.fetch(), "alice has no binding to flush"
        code, _, body = h.req("/api/location", "DELETE")
        assert code == 400, (code, body)
        j = h.json("/api/location?aor=" + urllib.request.quote("sip:alice@example.com"),
                   "DELETE")
        assert j == {"aors": 1, "bindings": 1}, j
        assert a.fetch() == {}, "binding still there after the flush"
    assert h.json("/api/location?aor=sip:alice@example.com")["contacts"] == []
    j = h.json("/api/location?aor=sip:alice@example.com", "DELETE")
    assert j["bindings"] == 0, j
    # everything
    j = h.json("/api/location?all=1", "DELETE")
    assert j["bindings"] >= 1, j
    with ua(srv, "bob") as b:
        assert b.fetch() == {}, "bob still bound after flush all"
    assert h.json("/api/location")["list"] == []
    assert val(h.metrics(), "siphon_registrations_bindings") == 0


def test_flush_survives_restart(h, srv, tmp):
    """The removal is durable (sqlite): it is gone after a restart too."""
    with ua(srv, "alice") as a:
        resp = a.register(contacts=[a.contact()], expires=600)
        assert rt.status(resp)[0] == 200
    h.json("/api/location?aor=sip:alice@example.com", "DELETE")
    srv.restart()
    h2 = Http(h.port)
    wait_for(lambda: h2.req("/api/health")[0] == 200, 5, "HTTP after restart")
    assert h2.json("/api/location?aor=sip:alice@example.com")["contacts"] == []


def test_garbage(h):
    junk = [b"GARBAGE\r\n\r\n", b"\x00\xff\xfe\x16\x03\x01\x02\x00" * 64,
            b"GET / HTTP/9.9\r\n\r\n", b"GET\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"b" * 100000 + b"\r\n\r\n",
            b"GET /api/health HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            b"GET /../../../etc/passwd HTTP/1.0\r\n\r\n",
            b"GET /api/location?aor=%00%ff%zz&limit=-1&offset=abc HTTP/1.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET /api/health HTTP/1.1\r\n"]  # never finished
    for data in junk:
        with socket.create_connection(("127.0.0.1", h.port), timeout=5) as s:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(5)
                while s.recv(65536):
                    pass
            except OSError:
                pass  # the server may reset a connection it refuses
        assert h.req("/api/health")[0] == 200, "HTTP died after %r" % data[:40]
    assert h.req("/nope")[0] == 404
    code, _, _ = h.req("/api/health", "POST")
    assert code == 405
    code, _, _ = h.req("/metrics", "DELETE")
    assert code == 405
    code, ctype, body = h.req("/")
    assert code == 200 and ctype.startswith("text/html") and b"<title>Siphon" in body


def test_bind_only_configured(h):
    """Configured on 127.0.0.1: nothing on 127.0.0.2 (same port)."""
    s = socket.socket()
    s.settimeout(2)
    try:
        assert s.connect_ex(("127.0.0.2", h.port)) != 0, "HTTP answers on 127.0.0.2"
    finally:
        s.close()


def test_off_by_default(bin_dir):
    srv = st.Siphond(bin_dir)
    srv.start()
    try:
        assert "HTTP interface" not in srv.stderr_text()
    finally:
        srv.stop()


def test_memory_backend(bin_dir):
    """The memory location backend: listing and flush work the same, IPv6 too."""
    tmp = tempfile.mkdtemp(prefix="siphond-http-mem-")
    hport = st.free_port("::1")
    srv = rt.RegSiphond(bin_dir, os.path.join(tmp, "data"),
                        extra=["--workers", "2", "--location", "memory",
                               "--http", "[::1]:%d" % hport], users={"alice": USERS["alice"]})
    srv.start()
    try:
        h = Http(hport, host="[::1]")
        assert h.json("/api/health")["location"]["backend"] == "memory"
        with ua(srv, "alice") as a:
            assert rt.status(a.register(contacts=[a.contact()], expires=600))[0] == 200
            assert [x["aor"] for x in h.json("/api/location")["list"]] == ["sip:alice@example.com"]
            j = h.json("/api/location?aor=sip:alice@example.com", "DELETE")
            assert j == {"aors": 1, "bindings": 1}, j
            assert a.fetch() == {}
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_bad_listen(bin_dir):
    for bad in ("127.0.0.1", "localhost:8080", "127.0.0.1:99999", "::1:80", "tcp:127.0.0.1:80"):
        rc, _, err = st.run_siphond(bin_dir, ["-c", "--http", bad])
        assert rc == 2 and "--http" in err, (bad, rc, err)


def main():
    args = st.setup()
    args.bin_dir = os.path.abspath(args.bin_dir)
    t = st.Runner()
    tmp = tempfile.mkdtemp(prefix="siphond-http-")
    hport = st.free_port()
    srv = rt.RegSiphond(args.bin_dir, os.path.join(tmp, "data"), config=conf(hport),
                        extra=["--workers", "2"], users=USERS)
    try:
        srv.start()
    except Exception as e:  # noqa: BLE001
        t.check("siphond starts with [http]", False, str(e))
        shutil.rmtree(tmp, ignore_errors=True)
        return t.finish()
    h = Http(hport)
    try:
        t.check("HTTP interface logged", "HTTP interface on http://127.0.0.1:%d/" % hport
                in srv.stderr_text(), srv.stderr_text()[-500:])
        t.run("/metrics parses as Prometheus text", test_metrics_format, h)
        t.run("counters move after REGISTER, 403, 400", test_counters_move, h, srv)
        t.run("proxied call: calls, 180/486, INVITE latency", test_proxied_call, h, srv)
        t.run("/api/health", test_health, h, srv)
        t.run("/api/stats", test_stats, h)
        t.run("/api/location: all, one AoR, pages", test_location, h, srv)
        t.run("DELETE /api/location: the binding is gone for SIP too", test_flush, h, srv)
        t.run("garbage requests: the server survives", test_garbage, h)
        t.run("binds only the configured address", test_bind_only_configured, h)
        t.run("flush is durable across a restart", test_flush_survives_restart, h, srv, tmp)
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
        shutil.rmtree(tmp, ignore_errors=True)
    t.run("HTTP off by default", test_off_by_default, args.bin_dir)
    t.run("bad --http rejected", test_bad_listen, args.bin_dir)
    t.run("memory backend over IPv6: list and flush", test_memory_backend, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
