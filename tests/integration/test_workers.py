#!/usr/bin/env python3
"""siphond with several worker threads (DESIGN.md, Transactions and concurrency):
every UDP socket and stream listener exists once per worker (SO_REUSEPORT),
so many sources and many connections are all served; a retransmission gets
the same answer; SIGTERM stops every thread cleanly. Runs in a private
network namespace; every loop is bounded in count and time."""

import os
import select
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402

UDP_CLIENTS = 400
UDP_BATCH = 100      # sockets open at once
UDP_ROUNDS = 4       # unanswered requests are sent again, as a client would (§17.1.2.2)
TCP_CLIENTS = 64
TCP_PER_CONN = 3


def threads_of(srv):
    try:
        return len(os.listdir("/proc/%d/task" % srv.proc.pid))
    except OSError:
        return -1


def udp_many(srv):
    """UDP_CLIENTS sources, each with its own port, all answered 200."""
    answered = 0
    for start in range(0, UDP_CLIENTS, UDP_BATCH):
        socks = {}
        try:
            for _ in range(min(UDP_BATCH, UDP_CLIENTS - start)):
                # no SO_REUSEADDR (st.udp_socket sets it): with it, two
                # sockets bound to port 0 may share an ephemeral port
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
                s.setblocking(False)
                socks[s] = st.options(srv.port, st.udp_source_port(s))
            pending = dict(socks)
            for _ in range(UDP_ROUNDS):
                for s, req in pending.items():
                    s.sendto(req, ("127.0.0.1", srv.port))
                end = time.monotonic() + 2.0
                while pending and time.monotonic() < end:
                    ready, _, _ = select.select(list(pending), [], [], 0.2)
                    for s in ready:
                        data = s.recv(65535)
                        code = st.parse_status(data)[0]
                        assert code == 200, "got %r for OPTIONS" % data[:80]
                        del pending[s]
                if not pending:
                    break
            assert not pending, "%d of %d sources got no answer" % (len(pending), len(socks))
            answered += len(socks)
        finally:
            for s in socks:
                s.close()
    assert answered == UDP_CLIENTS


def tcp_many(srv):
    """TCP_CLIENTS connections open at once, each with pipelined requests:
    every connection gets all of its answers (on itself)."""
    conns = []
    try:
        for _ in range(TCP_CLIENTS):
            conns.append(st.tcp_connect(srv.port))
        for i, s in enumerate(conns):
            data = b"".join(st.options(srv.port, 40000 + i, transport="TCP")
                            for _ in range(TCP_PER_CONN))
            s.sendall(data)
        for i, s in enumerate(conns):
            msgs, closed = st.recv_messages(s, TCP_PER_CONN, 5.0)
            assert len(msgs) == TCP_PER_CONN, "connection %d: %d of %d answers (closed %s)" % (
                i, len(msgs), TCP_PER_CONN, closed)
            for m in msgs:
                assert st.parse_status(m)[0] == 200, "connection %d: %r" % (i, m[:80])
    finally:
        for s in conns:
            s.close()


def retransmission(srv):
    """The same request (same branch) twice: the same response twice."""
    with st.udp_socket() as s:
        req = st.options(srv.port, st.udp_source_port(s), branch="z9hG4bK-retx-workers")
        first = st.udp_exchange(req, srv.port, sock=s)
        second = st.udp_exchange(req, srv.port, sock=s)
    assert st.parse_status(first)[0] == 200, "first: %r" % first
    assert first == second, "retransmission answered differently:\n%r\n%r" % (first, second)


def workers_started(srv, n):
    def check():
        text = srv.stderr_text()
        want = "(%d worker%s" % (n, "" if n == 1 else "s")
        assert want in text, "start line lacks %r: %s" % (want, text)
        # main thread + the workers (threads of the sanitizer runtime may add some)
        assert threads_of(srv) >= n + 1, "%d threads for %d workers" % (threads_of(srv), n)
    return check


def basic_udp_tcp(srv):
    with st.udp_socket() as s:
        resp = st.udp_exchange(st.options(srv.port, st.udp_source_port(s)), srv.port, sock=s)
    assert st.parse_status(resp)[0] == 200, "udp: %r" % resp
    resp, _ = st.tcp_exchange(st.options(srv.port, 1, transport="TCP"), srv.port)
    assert st.parse_status(resp)[0] == 200, "tcp: %r" % resp


def config_range(bin_dir):
    cases = [("[server]\nworkers = 0\n", 2), ("[server]\nworkers = 65\n", 2),
             ("[server]\nworkers = 64\n", 0), ("[server]\nworkers = 1\n", 0)]
    for text, want in cases:
        fd, path = tempfile.mkstemp(suffix=".conf")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            rc, _, err = st.run_siphond(bin_dir, ["-c", "-f", path])
            assert rc == want, "%r: rc %d, wanted %d (%s)" % (text, rc, want, err)
            if want:
                assert ":2:" in err and "workers" in err, "%r: %s" % (text, err)
        finally:
            os.unlink(path)
    for arg in ("0", "100", "two"):
        rc, _, err = st.run_siphond(bin_dir, ["-c", "--workers", arg])
        assert rc == 2 and "--workers" in err, "--workers %s: rc %d %s" % (arg, rc, err)


def main():
    args = st.setup()
    t = st.Runner()
    t.run("workers out of range -> config error", config_range, args.bin_dir)

    # all clients come from 127.0.0.1: lift the per-source cap above them
    srv = st.Siphond(args.bin_dir, extra=["--workers", "2"],
                     config="[server]\ntcp_max_per_source = %d\n" % (TCP_CLIENTS + 1))
    srv.start()
    try:
        t.run("--workers 2 starts 2 workers", workers_started(srv, 2))
        t.run("%d UDP sources all answered" % UDP_CLIENTS, udp_many, srv)
        t.run("%d TCP connections x %d requests" % (TCP_CLIENTS, TCP_PER_CONN), tcp_many, srv)
        t.run("retransmission gets the same response", retransmission, srv)
        t.run("still serving", basic_udp_tcp, srv)
    finally:
        t.run("--workers 2: SIGTERM -> exit 0, no sanitizer report", srv.stop)

    with st.Siphond(args.bin_dir, extra=["--workers", "1"]) as one:
        t.run("--workers 1 starts 1 worker", workers_started(one, 1))
        t.run("--workers 1 serves UDP and TCP", basic_udp_tcp, one)
        t.run("--workers 1: UDP sources", udp_many, one)

    default = min(os.cpu_count() or 1, 64)
    with st.Siphond(args.bin_dir) as dflt:
        t.run("default: one worker per CPU (%d)" % default, workers_started(dflt, default))
        t.run("default serves", basic_udp_tcp, dflt)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
