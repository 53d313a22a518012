#!/usr/bin/env python3
"""`siphon options` (RFC 3261 §11) through a real client non-INVITE
transaction: against siphond over UDP, TCP and TLS (certificates made here
with the openssl CLI), against SIPp UAS scenarios that never answer (the
retransmission schedule of §17.1.2.2 and Timer F) or answer 486, against a
stray response (matched through the transaction table, §17.1.3), and a
refused TCP connection, and a request over 1300 bytes that goes over TCP
instead of UDP (§18.1.1). Exit codes: 0 2xx, 1 3xx-6xx, 2 timeout, 3 transport
error, 64 usage. Runs in a private network namespace; every process is
stopped by PID and every wait is bounded."""

import datetime
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402
from tlscerts import Certs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL = "127.0.0.1"
T1 = 100  # --timeout-t1 for the silent peers: Timer F = 64*T1 = 6.4 s
# §17.1.2.2 with T1 = 100, T2 = 4000: Timer E doubles from T1 (ms after the first send)
SCHEDULE = [0, 100, 300, 700, 1500, 3100, 6300]


# ---------------------------------------------------------------- SIPp

def port_bound(port, proto):
    """Is something bound to port (UDP) or listening on it (TCP) in this netns?"""
    path = "/proc/net/udp" if proto == "udp" else "/proc/net/tcp"
    with open(path) as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and \
                    (proto == "udp" or fields[3] == "0A"):
                return True
    return False


class Sipp:
    """A SIPp UAS scenario on a fresh port, its messages traced to a file."""

    def __init__(self, scenario, transport):
        self.tmp = tempfile.mkdtemp(prefix="siphon-uac-sipp-")
        self.trace = os.path.join(self.tmp, "msg.log")
        self.proto = "udp" if transport == "u1" else "tcp"
        self.port = st.free_port()
        cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", scenario), "-t", transport,
               "-i", LOCAL, "-p", str(self.port), "-m", "1", "-nostdin", "-timeout", "20s",
               "-trace_msg", "-message_file", self.trace]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     cwd=self.tmp)
        st._live_procs.add(self.proc)
        end = time.monotonic() + 10
        while not port_bound(self.port, self.proto):
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError("sipp did not start on port %d" % self.port)
            time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def wait(self, timeout):
        """SIPp's exit status once its scenario ends (None if it had to be killed)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        st._live_procs.discard(self.proc)

    def received(self, method):
        """Timestamps (s) of every request `method` SIPp received."""
        if not os.path.exists(self.trace):
            return []
        with open(self.trace, errors="replace") as f:
            text = f.read()
        out = []
        for blk in re.split(r"^-{10,} ", text, flags=re.M)[1:]:
            stamp, _, rest = blk.partition("\n")
            if "message received" not in rest.split("\n", 1)[0]:
                continue
            if re.search(r"^%s sip" % method, rest, re.M):
                ts = datetime.datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f")
                out.append(ts.timestamp())
        return out

    def remove(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- tests

def test_siphond(bin_dir, srv, transport):
    uri = "sip:%s:%d" % (LOCAL, srv.port)
    res = st.run_siphon(bin_dir, ["options", uri, "--transport", transport])
    st.expect_exit(res, 0, "SIP/2.0 200 OK")
    # -v: the whole response on stdout, the request traced on stderr
    res = st.run_siphon(bin_dir, ["options", uri, "-v", "--transport", transport])
    st.expect_exit(res, 0, "Allow:")
    sent = res[2]
    for h in ("Via: SIP/2.0/%s " % transport.upper(), ";branch=z9hG4bK", ";rport",
              "Max-Forwards: 70", "CSeq: 1 OPTIONS", "Accept: application/sdp",
              "User-Agent: Siphon/", "Content-Length: 0"):
        assert h in sent, "%r not in the traced request:\n%s" % (h, sent)


def test_tls(bin_dir, certs):
    with st.Siphond(bin_dir, listen=["tls:%s:{port}" % LOCAL], config=certs.conf()) as srv:
        uri = "sip:%s:%d" % (LOCAL, srv.port)
        res = st.run_siphon(bin_dir, ["options", uri, "--transport", "tls", "--ca-file", certs.ca])
        st.expect_exit(res, 0, "SIP/2.0 200 OK")
        res = st.run_siphon(bin_dir, ["options", uri + ";transport=tls", "--ca-file", certs.ca])
        st.expect_exit(res, 0, "SIP/2.0 200 OK")
        # an unrelated CA, and the system store: the server is not trusted
        for extra in (["--ca-file", certs.other_ca], []):
            res = st.run_siphon(bin_dir, ["options", uri, "--transport", "tls"] + extra)
            st.expect_exit(res, 3, "503 Service Unavailable (transport error: TLS certificate")


def test_silent(bin_dir, transport):
    with Sipp("uas_silent.xml", transport) as sipp:
        try:
            proto = "udp" if transport == "u1" else "tcp"
            res = st.run_siphon(bin_dir, ["options", "sip:%s:%d" % (LOCAL, sipp.port),
                                   "--transport", proto, "--timeout-t1", str(T1)])
            st.expect_exit(res, 2, "408 Request Timeout (no response)")
            # Timer F = 64*T1 (§17.1.2.2)
            assert 6.3 <= res[3] <= 8.5, "timed out after %.2fs, expected ~6.4s" % res[3]
            sipp.wait(10)  # the trace is complete once SIPp ended
            got = sipp.received("OPTIONS")
            if proto == "tcp":
                # §17.1.2.2: no Timer E over a reliable transport
                assert len(got) == 1, "SIPp got %d copies over TCP" % len(got)
                return
            assert len(got) == len(SCHEDULE), "SIPp got %d copies, expected %d" % (
                len(got), len(SCHEDULE))
            offs = [round((t - got[0]) * 1000) for t in got]
            for want, seen in zip(SCHEDULE, offs):
                assert abs(seen - want) <= 80, "copies at %s ms, expected %s" % (offs, SCHEDULE)
        finally:
            sipp.remove()


def test_busy(bin_dir, transport):
    with Sipp("uas_486.xml", transport) as sipp:
        try:
            proto = "udp" if transport == "u1" else "tcp"
            res = st.run_siphon(bin_dir, ["options", "sip:%s:%d" % (LOCAL, sipp.port),
                                   "--transport", proto])
            st.expect_exit(res, 1, "SIP/2.0 486 Busy Here")
            rc = sipp.wait(10)
            assert rc == 0, "sipp exit %s" % rc
        finally:
            sipp.remove()


def test_stray_response(bin_dir):
    """A response with another branch first, then the real one: only the real
    one reaches the transaction (§17.1.3)."""
    s = st.udp_socket(0, LOCAL)
    port = s.getsockname()[1]
    p = subprocess.Popen([os.path.join(bin_dir, "siphon"), "options",
                          "sip:%s:%d" % (LOCAL, port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    st._live_procs.add(p)
    try:
        s.settimeout(5)
        req, src = s.recvfrom(65535)
        head = req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        keep = [h for h in head[1:] if h.split(b":", 1)[0].strip().lower() in
                (b"via", b"from", b"to", b"call-id", b"cseq")]

        def resp(code, reason, lines):
            return b"\r\n".join([b"SIP/2.0 %d %s" % (code, reason)] + lines +
                                [b"Content-Length: 0", b"", b""])
        stray = [re.sub(rb"branch=z9hG4bK[0-9a-f]+", b"branch=z9hG4bKstray", h) for h in keep]
        s.sendto(resp(486, b"Busy Here", stray), src)
        time.sleep(0.2)
        s.sendto(resp(202, b"Accepted", keep), src)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        st._live_procs.discard(p)
        s.close()
    out = out.decode("utf-8", "replace")
    assert p.returncode == 0, "exit %s: %s %s" % (p.returncode, out, err[-1000:])
    assert "SIP/2.0 202 Accepted" in out, out


def test_refused(bin_dir):
    port = st.free_port()
    res = st.run_siphon(bin_dir, ["options", "sip:%s:%d" % (LOCAL, port), "--transport", "tcp"])
    st.expect_exit(res, 3, "503 Service Unavailable (transport error: Connection refused)")


def sent_size(trace, proto, port):
    """Sizes of the messages traced as sent over proto to 127.0.0.1:port."""
    return [int(n) for n in re.findall(r"^sent to %s %s:%d \((\d+) bytes\)" % (
        proto, re.escape(LOCAL), port), trace, re.M)]


def test_large_over_tcp(bin_dir):
    """RFC 3261 §18.1.1: over 1300 bytes with no transport asked for, the
    UDP target is reached over TCP (Via TCP); a small one stays on UDP."""
    with st.Siphond(bin_dir, listen=["tcp:%s:{port}" % LOCAL]) as srv:
        uri = "sip:%s:%d" % (LOCAL, srv.port)
        res = st.run_siphon(bin_dir, ["options", uri, "--pad", "1500", "-v"])
        st.expect_exit(res, 0, "SIP/2.0 200 OK")
        sizes = sent_size(res[2], "TCP", srv.port)
        assert len(sizes) == 1 and sizes[0] > 1500, "not sent over TCP:\n" + res[2][-3000:]
        assert not sent_size(res[2], "UDP", srv.port), "sent over UDP too"
        assert "Via: SIP/2.0/TCP " in res[2] and ";transport=tcp>" in res[2], res[2][-3000:]
        # -H works the same way
        pad = "X-Big: " + "y" * 1400
        res = st.run_siphon(bin_dir, ["options", uri, "-H", pad, "-H", "X-Small: 1"])
        st.expect_exit(res, 0, "SIP/2.0 200 OK")
        # small: UDP, where nobody listens: Timer F
        res = st.run_siphon(bin_dir, ["options", uri, "--timeout-t1", "20", "-v"])
        st.expect_exit(res, 2, "408 Request Timeout")
        assert sent_size(res[2], "UDP", srv.port), res[2][-2000:]


def test_large_udp_only_peer(bin_dir):
    """A UDP-only peer never gets the large request: the TCP connection is
    refused and the (only) target fails, 503; transport=udp or --transport
    udp keep UDP whatever the size."""
    with st.Siphond(bin_dir, listen=["udp:%s:{port}" % LOCAL],
                    extra=["--log-level", "debug"]) as srv:
        uri = "sip:%s:%d" % (LOCAL, srv.port)
        res = st.run_siphon(bin_dir, ["options", uri, "--pad", "1500"])
        st.expect_exit(res, 3, "503 Service Unavailable (transport error: Connection refused)")
        time.sleep(0.2)
        assert "200 OK to" not in srv.stderr_text(), "the UDP peer got it:\n" + \
            srv.stderr_text()[-2000:]
        for argv in ([uri + ";transport=udp"], [uri, "--transport", "udp"]):
            res = st.run_siphon(bin_dir, ["options", "--pad", "1500", "-v"] + argv)
            st.expect_exit(res, 0, "SIP/2.0 200 OK")
            sizes = sent_size(res[2], "UDP", srv.port)
            assert sizes and sizes[0] > 1500, res[2][-2000:]
        res = st.run_siphon(bin_dir, ["options", uri, "-H", "no colon"])
        assert res[0] == 64, res


def test_usage(bin_dir):
    for argv in ([], ["options"], ["frobnicate", "sip:127.0.0.1"],
                 ["options", "sip:127.0.0.1", "--transport", "sctp"],
                 ["options", "sip:127.0.0.1", "--timeout-t1", "0"],
                 ["options", "mailto:bob@example.com"],
                 ["options", "sips:127.0.0.1;transport=udp"],
                 ["options", "sip:127.0.0.1", "--local", "not-an-address"]):
        res = st.run_siphon(bin_dir, argv)
        assert res[0] == 64, "%s: exit %s, expected 64\n%s" % (argv, res[0], res[2])


def main():
    args = st.setup()
    t = st.Runner()
    bin_dir = args.bin_dir
    with st.Siphond(bin_dir) as srv:
        t.run("options to siphond over udp", test_siphond, bin_dir, srv, "udp")
        t.run("options to siphond over tcp", test_siphond, bin_dir, srv, "tcp")
    certs = Certs()
    try:
        t.run("options over tls: right CA exit 0, wrong CA exit 3", test_tls, bin_dir, certs)
    finally:
        certs.remove()
    t.run("silent uas over udp: 7 copies, exit 2 after 64*T1", test_silent, bin_dir, "u1")
    t.run("silent uas over tcp: 1 copy, exit 2", test_silent, bin_dir, "t1")
    t.run("486 over udp: exit 1", test_busy, bin_dir, "u1")
    t.run("486 over tcp: exit 1", test_busy, bin_dir, "t1")
    t.run("stray response ignored", test_stray_response, bin_dir)
    t.run("tcp connection refused: exit 3", test_refused, bin_dir)
    t.run("large request: udp target over tcp (3261 18.1.1)", test_large_over_tcp, bin_dir)
    t.run("large request: udp-only peer refuses tcp, transport=udp stays",
          test_large_udp_only_peer, bin_dir)
    t.run("bad usage: exit 64", test_usage, bin_dir)
    sys.exit(t.finish())


if __name__ == "__main__":
    main()
