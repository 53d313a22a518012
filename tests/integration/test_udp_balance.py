#!/usr/bin/env python3
"""UDP balancing over siphond's workers ([server] udp_balance, balance.h).

- adaptive (the default): at a light load one worker takes every datagram;
  the other sleeps (its run count in /proc/PID/task/TID/schedstat stays put).
- spread: each source goes where the documented hash puts it, so both
  workers work, and a test can choose two sources that land on different
  workers: an INVITE answered by worker A, then its retransmission and the
  ACK of its non-2xx final sent from a source of worker B. B hands both to A,
  whose transaction answers the retransmission at once and stops resending
  the final after the ACK (RFC 3261 §17.2.1).

Runs in a private network namespace; every wait is bounded."""

import os
import random
import select
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402

SOURCES = 64
ROUNDS = 10
PAUSE = 0.05  # between rounds: a light load (~1300 requests/s), even under TSan


def steer_index(ip, port, active):
    """tp_udp_steer_index(): the socket of the group (worker) a source goes to."""
    return ((((ip ^ port) * 0x9E3779B1) & 0xFFFFFFFF) >> 16) % active


def workers(srv):
    """{"siphond-w0": tid, ...} from the threads' names."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % srv.proc.pid):
        try:
            with open("/proc/%d/task/%s/comm" % (srv.proc.pid, tid)) as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith("siphond-w"):
            out[name] = int(tid)
    return out


def runs(srv, tid):
    """Times the thread was put on a CPU (schedstat's third field)."""
    with open("/proc/%d/task/%d/schedstat" % (srv.proc.pid, tid)) as f:
        return int(f.read().split()[2])


def load(srv):
    """SOURCES sources x ROUNDS OPTIONS each, every one answered 200;
    returns how many times each worker ran meanwhile."""
    ws = workers(srv)
    assert sorted(ws) == ["siphond-w0", "siphond-w1"], "worker threads: %r" % ws
    before = {n: runs(srv, t) for n, t in ws.items()}
    socks = []
    try:
        for _ in range(SOURCES):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            socks.append(s)
        for _ in range(ROUNDS):
            pending = {}
            for s in socks:
                pending[s] = st.options(srv.port, st.udp_source_port(s))
                s.sendto(pending[s], ("127.0.0.1", srv.port))
            end = time.monotonic() + 3.0
            while pending and time.monotonic() < end:
                ready, _, _ = select.select(list(pending), [], [], 0.2)
                for s in ready:
                    code = st.parse_status(s.recv(65535))[0]
                    assert code == 200, "OPTIONS got %s" % code
                    del pending[s]
            assert not pending, "%d sources got no answer" % len(pending)
            time.sleep(PAUSE)
    finally:
        for s in socks:
            s.close()
    return {n: runs(srv, t) - before[n] for n, t in ws.items()}


def udp_workers_gauge(hport):
    """siphon_udp_workers_active from /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % hport, timeout=10) as f:
        text = f.read().decode()
    for line in text.splitlines():
        if line.startswith("siphon_udp_workers_active "):
            return float(line.split()[1])
    raise AssertionError("no siphon_udp_workers_active in /metrics")


def gauge_is(hport, want):
    def check():
        got = udp_workers_gauge(hport)
        assert got == want, "siphon_udp_workers_active %s, wanted %s" % (got, want)
    return check


def adaptive_one_worker(srv):
    def check():
        text = srv.stderr_text()
        assert "UDP balancing adaptive" in text, text
        ran = load(srv)
        # w0 ran for the datagrams; w1 had none to wake for
        assert ran["siphond-w0"] >= ROUNDS, ran
        assert ran["siphond-w1"] <= 3, "the idle worker ran: %r" % ran
    return check


def spread_both_workers(srv):
    def check():
        ran = load(srv)
        assert ran["siphond-w0"] >= ROUNDS and ran["siphond-w1"] >= ROUNDS, ran
    return check


def bind_on(worker, active):
    """A UDP socket whose source port the hash gives to `worker`."""
    for _ in range(2000):
        port = random.randint(20000, 60000)
        if steer_index(0x7F000001, port, active) != worker:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return s
        except OSError:
            s.close()
    raise AssertionError("no free port for worker %d" % worker)


def invite(srv, via_port, branch, call_id, tag):
    return ("INVITE sip:nobody@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@127.0.0.1>;tag=%s\r\n"
            "To: <sip:nobody@127.0.0.1:%d>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:caller@127.0.0.1:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (srv.port, via_port, branch, tag, srv.port,
                                           call_id, via_port)).encode()


def ack(srv, via_port, branch, call_id, tag, to_hdr):
    return ("ACK sip:nobody@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@127.0.0.1>;tag=%s\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n\r\n" % (srv.port, via_port, branch, tag, to_hdr,
                                           call_id)).encode()


def finals(sock, until):
    """Responses of 300 or more received on sock before `until` (monotonic)."""
    got = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return got
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return got
        data = sock.recv(65535)
        code = st.parse_status(data)[0]
        if code >= 300:
            got.append((time.monotonic(), data))


def handed_to_owner(srv):
    def check():
        a, b = bind_on(0, 2), bind_on(1, 2)
        try:
            pa = a.getsockname()[1]
            branch = "z9hG4bK-bal-%08x" % random.getrandbits(32)
            call_id = "%08x@balance" % random.getrandbits(32)
            tag = "%08x" % random.getrandbits(32)
            req = invite(srv, pa, branch, call_id, tag)
            a.sendto(req, ("127.0.0.1", srv.port))
            t0 = time.monotonic()
            got = finals(a, t0 + 0.4)
            assert got, "no final response to the INVITE"
            first = got[0][1]
            # Timer G: the final is resent at about 500 ms (no ACK yet)
            got = finals(a, t0 + 0.9)
            assert got, "the final was not retransmitted before the ACK"
            # the retransmitted INVITE from worker 1's source: worker 0's
            # transaction resends the final at once, not at Timer G's 1.5 s
            b.sendto(req, ("127.0.0.1", srv.port))
            t1 = time.monotonic()
            got = finals(a, t1 + 0.3)
            assert got, "the INVITE retransmission from the other worker went unanswered"
            # the ACK from worker 1's source ends the retransmissions
            to_hdr = st.header(first, "To", "t")[0]
            b.sendto(ack(srv, pa, branch, call_id, tag, to_hdr), ("127.0.0.1", srv.port))
            t2 = time.monotonic()
            got = [g for g in finals(a, t0 + 3.8) if g[0] > t2 + 0.05]
            assert not got, "the final was still resent %d time(s) after the ACK" % len(got)
        finally:
            a.close()
            b.close()
    return check


def config_values(bin_dir):
    for value, rc in (("adaptive", 0), ("spread", 0), ("kernel", 0), ("round-robin", 2)):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                            "siphon-bal-%d-%s.conf" % (os.getpid(), value))
        with open(path, "w") as f:
            f.write("[server]\nudp_balance = %s\n" % value)
        try:
            got, _, err = st.run_siphond(bin_dir, ["-c", "-f", path])
        finally:
            os.unlink(path)
        assert got == rc, "udp_balance = %s: rc %d (%s)" % (value, got, err)
        if rc:
            assert "udp_balance" in err and "adaptive, spread or kernel" in err, err


def main():
    args = st.setup()
    t = st.Runner()
    t.run("udp_balance values are checked", config_values, args.bin_dir)
    hport = st.free_port()
    with st.Siphond(args.bin_dir, extra=["--workers", "2", "--http", "127.0.0.1:%d" % hport]) as srv:
        t.run("adaptive: one worker takes a light load", adaptive_one_worker(srv))
        t.run("adaptive: /metrics says 1 UDP worker", gauge_is(hport, 1))
    hport = st.free_port()
    with st.Siphond(args.bin_dir, extra=["--workers", "2", "--http", "127.0.0.1:%d" % hport],
                    config="[server]\nudp_balance = spread\n") as srv:
        t.run("spread: both workers take sources", spread_both_workers(srv))
        t.run("spread: /metrics says 2 UDP workers", gauge_is(hport, 2))
        t.run("spread: retransmission and ACK from another worker's source reach the "
              "transaction's owner", handed_to_owner(srv))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
