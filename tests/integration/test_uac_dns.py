#!/usr/bin/env python3
"""`siphon options` to a name (RFC 3263) end to end: dnsmasq on 127.0.0.1
serves the zone siphon.test only (no upstream, no hosts file), siphond is
the live server. SRV failover over UDP (§4.3: the first target never answers,
Timer F, then the next target with a new branch), NAPTR -> SRV to TCP
(SIP+D2T) with a refused first target, and a name without records (exit 3,
DNS error). Runs in a private network namespace; every process is stopped by
PID and every wait is bounded."""

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

LOCAL = "127.0.0.1"
DNSMASQ = "/usr/sbin/dnsmasq"
T1 = 50  # --timeout-t1: Timer F = 64*T1 = 3.2 s






def udp_bound(port):
    with open("/proc/net/udp") as f:
        return any(int(line.split()[1].split(":")[1], 16) == port
                   for line in f.readlines()[1:])


class Dnsmasq:
    """dnsmasq in the foreground on 127.0.0.1:port with the given records."""

    def __init__(self, records):
        self.port = st.free_port()
        self.tmp = tempfile.mkdtemp(prefix="siphon-dns-")
        cmd = [DNSMASQ, "--conf-file=/dev/null", "--keep-in-foreground", "--pid-file",
               "--no-resolv", "--no-hosts", "--local=/siphon.test/",
               "--listen-address=" + LOCAL, "--bind-interfaces", "--log-facility=-",
               "--user=root", "--port=%d" % self.port] + records
        self.err = open(os.path.join(self.tmp, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        st._live_procs.add(self.proc)
        end = time.monotonic() + 10
        while not udp_bound(self.port):
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError("dnsmasq did not start: " + self.stderr())
            time.sleep(0.02)

    def server(self):
        return "%s:%d" % (LOCAL, self.port)

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        st._live_procs.discard(self.proc)
        self.err.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def drain(sock):
    """Every datagram waiting on sock."""
    out = []
    sock.setblocking(False)
    while True:
        try:
            out.append(sock.recv(65535))
        except BlockingIOError:
            return out


def branches(trace, proto, port):
    """The Via branch of every request traced as sent over proto to port."""
    out = []
    for m in re.finditer(r"^sent to %s %s:%d \(\d+ bytes\)\n(.*?)\r?\n\r?\n" % (
            proto, re.escape(LOCAL), port), trace, re.M | re.S):
        b = re.search(r"branch=([^;\s]+)", m.group(1))
        out.append(b.group(1) if b else None)
    return out


def failover_udp(bin_dir, dns, srv, dead, uri, rc, status):
    """uri resolves (_sip._udp.siphon.test) to the dead target first, then
    siphond: Timer F on the first, a new branch on the second, its answer."""
    dead_port = dead.getsockname()[1]
    res = st.run_siphon(bin_dir, ["options", uri, "--dns-server", dns.server(),
                           "--timeout-t1", str(T1), "-v"])
    st.expect_exit(res, rc, status)
    # Timer F = 64*T1 on the first target, then an immediate answer
    assert 3.1 <= res[3] <= 8, "took %.2fs, expected about 3.2s" % res[3]
    first, second = branches(res[2], "UDP", dead_port), branches(res[2], "UDP", srv.port)
    assert len(first) >= 6 and len(set(first)) == 1, "to the dead target: %s" % first
    assert len(second) == 1, "to siphond: %s\n%s" % (second, res[2][-3000:])
    # RFC 3263 §4.3: a new transaction, so a new branch
    assert second[0] != first[0], "same branch on both targets"
    assert "received from UDP %s:%d" % (LOCAL, srv.port) in res[2], res[2][-3000:]
    got = drain(dead)
    assert len(got) == len(first) and all(b"OPTIONS " + uri.encode() + b" SIP/2.0" in g
                                          for g in got), \
        "the dead target got %d datagrams" % len(got)


def test_srv_failover_udp(bin_dir, dns, srv, dead):
    """_sip._udp: priority 10 never answers (a bound socket that never
    reads), priority 20 is siphond. siphond answers 200 to a Request-URI
    naming its own address, so the name goes in maddr (RFC 3263 §4: maddr
    is the TARGET); for sip:siphon.test itself it answers 501 (a request it
    would route: routing is not implemented yet), which is still its final
    response after the failover."""
    failover_udp(bin_dir, dns, srv, dead, "sip:127.0.0.1;maddr=siphon.test", 0,
                 "SIP/2.0 200 OK")
    failover_udp(bin_dir, dns, srv, dead, "sip:siphon.test", 1, "SIP/2.0 501 ")


def test_naptr_tcp(bin_dir, dns, srv, dead_tcp):
    """NAPTR SIP+D2T -> _sip._tcp: priority 10 refuses the connection (a
    transport error: next target at once), priority 20 is siphond's TCP. The
    name also has a _sip._udp SRV, which only a client that skipped the NAPTR
    would use (RFC 3263 §4.1)."""
    res = st.run_siphon(bin_dir, ["options", "sip:127.0.0.1;maddr=naptr.siphon.test",
                           "--dns-server", dns.server(),
                           "--timeout-t1", str(T1), "-v"])
    st.expect_exit(res, 0, "SIP/2.0 200 OK")
    assert res[3] < 3, "took %.2fs: the refused target was not failed over at once" % res[3]
    assert branches(res[2], "TCP", dead_tcp), "priority 10 not tried:\n" + res[2][-3000:]
    assert branches(res[2], "TCP", srv.port), "not sent over TCP to siphond:\n" + res[2][-3000:]
    # the NAPTR set offers TCP only: the _sip._udp SRV of the name is not used
    assert "sent to UDP" not in res[2], "sent over UDP:\n" + res[2][-3000:]
    assert "Via: SIP/2.0/TCP " in res[2]


def test_no_records(bin_dir, dns):
    res = st.run_siphon(bin_dir, ["options", "sip:nothing.siphon.test", "--dns-server", dns.server(),
                           "--timeout-t1", str(T1)])
    st.expect_exit(res, 3, "503 Service Unavailable (DNS: no such name or no usable records)")
    assert res[3] < 10, "took %.2fs" % res[3]


def main():
    args = st.setup()
    t = st.Runner()
    bin_dir = args.bin_dir
    if not os.path.exists(DNSMASQ):
        print("FATAL: %s not found" % DNSMASQ)
        return 1
    # a UDP target that never answers (bound, so no ICMP either), and a TCP
    # port with nothing listening (connection refused)
    dead = st.udp_socket(0, LOCAL)
    dead_port = dead.getsockname()[1]
    dead_tcp = st.free_port()
    # the server stands in for a far end that answers 501 (the proxy is off)
    srv = st.Siphond(bin_dir, config="[proxy]\nenabled = no\n")
    srv.start()
    dns = None
    try:
        dns = Dnsmasq([
            "--srv-host=_sip._udp.siphon.test,a.siphon.test,%d,10,0" % dead_port,
            "--srv-host=_sip._udp.siphon.test,b.siphon.test,%d,20,0" % srv.port,
            "--naptr-record=naptr.siphon.test,10,10,S,SIP+D2T,,_sip._tcp.naptr.siphon.test",
            "--srv-host=_sip._tcp.naptr.siphon.test,a.siphon.test,%d,10,0" % dead_tcp,
            "--srv-host=_sip._tcp.naptr.siphon.test,b.siphon.test,%d,20,0" % srv.port,
            "--srv-host=_sip._udp.naptr.siphon.test,b.siphon.test,%d,10,0" % srv.port,
            "--host-record=a.siphon.test,127.0.0.1",
            "--host-record=b.siphon.test,127.0.0.1",
        ])
        t.run("SRV over udp: Timer F on priority 10, 200 from priority 20",
              test_srv_failover_udp, bin_dir, dns, srv, dead)
        t.run("NAPTR SIP+D2T -> SRV: refused, then 200 over tcp", test_naptr_tcp, bin_dir,
              dns, srv, dead_tcp)
        t.run("no records: exit 3, DNS error", test_no_records, bin_dir, dns)
        t.check("dnsmasq alive", dns.proc.poll() is None)
        t.check("siphond alive", srv.alive())
    finally:
        if dns:
            dns.stop()
        t.run("siphond: SIGTERM -> exit 0, no sanitizer report", srv.stop)
        dead.close()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
