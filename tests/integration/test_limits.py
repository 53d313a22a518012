#!/usr/bin/env python3
"""siphond limits against abuse: the per-source TCP connection cap
(tcp_max_per_source, counted over all workers, refusals logged at most once a
second per worker) and the guard against a second siphond silently sharing a
listen address through SO_REUSEPORT. Runs in a private network namespace
(127.0.0.2 is a second local source there)."""

import math
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402

CAP_CONF = """[server]
listen = udp:127.0.0.1:{port}, tcp:127.0.0.1:{port}
tcp_max_per_source = 3
workers = 2

[log]
level = info
"""


def connect_from(src, port):
    """A TCP connection to 127.0.0.1:port from src (port picked by the system)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3.0)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def options_ok(s, port, what):
    s.sendall(st.options(port, s.getsockname()[1], transport="TCP",
                         host=s.getsockname()[0], ruri="sip:127.0.0.1:%d" % port))
    msgs, closed = st.recv_messages(s, 1, 3)
    assert msgs and st.parse_status(msgs[0])[0] == 200, "%s: no 200 (closed=%s): %r" % (
        what, closed, msgs)


def refusals(srv):
    return srv.stderr_text().count("tcp_max_per_source")


def test_per_source_cap(bin_dir):
    with st.Siphond(bin_dir, config=CAP_CONF, use_cli_listen=False) as srv:
        conns = []
        try:
            # three from 127.0.0.1, spread over both workers by the kernel
            for i in range(3):
                conns.append(connect_from("127.0.0.1", srv.port))
                options_ok(conns[-1], srv.port, "connection %d from 127.0.0.1" % i)
            # the fourth is accepted and closed at once, without an answer
            extra = connect_from("127.0.0.1", srv.port)
            try:
                data, closed = st.recv_raw(extra, 3)
                assert closed and data == b"", "4th connection from 127.0.0.1: %r closed=%s" % (
                    data[:80], closed)
            finally:
                extra.close()
            assert srv.wait_log("tcp_max_per_source", 2), "refusal not logged:\n" + \
                srv.stderr_text()
            # another source is not affected
            other = connect_from("127.0.0.2", srv.port)
            try:
                options_ok(other, srv.port, "connection from 127.0.0.2")
            finally:
                other.close()
            # the three still work
            for i, c in enumerate(conns):
                options_ok(c, srv.port, "connection %d after the refusal" % i)
            # a closed connection frees its slot
            conns.pop(0).close()
            end = time.monotonic() + 3
            while True:
                again = connect_from("127.0.0.1", srv.port)
                try:
                    options_ok(again, srv.port, "new connection after a close")
                    break
                except AssertionError:
                    # the close may not have been seen yet: try again shortly
                    if time.monotonic() > end:
                        raise
                    time.sleep(0.1)
                finally:
                    again.close()
        finally:
            for c in conns:
                c.close()


def test_refusal_log_rate(bin_dir):
    """A burst of refused connections: at most one line a second per worker."""
    with st.Siphond(bin_dir, config=CAP_CONF, use_cli_listen=False) as srv:
        held = [connect_from("127.0.0.1", srv.port) for _ in range(3)]
        try:
            for c in held:
                options_ok(c, srv.port, "held connection")
            before = refusals(srv)
            t0 = time.monotonic()
            burst = 40
            for _ in range(burst):
                s = connect_from("127.0.0.1", srv.port)
                assert st.wait_closed(s, 3), "a connection above the cap stayed open"
                s.close()
            took = time.monotonic() - t0
            time.sleep(0.2)
            lines = refusals(srv) - before
            allowed = 2 * (math.ceil(took) + 1)
            assert 1 <= lines <= allowed, "%d refusal lines for %d refusals in %.2fs" % (
                lines, burst, took)
        finally:
            for c in held:
                c.close()


def test_per_source_off_and_config(bin_dir):
    conf = CAP_CONF.replace("tcp_max_per_source = 3", "tcp_max_per_source = 0")
    with st.Siphond(bin_dir, config=conf, use_cli_listen=False) as srv:
        conns = []
        try:
            for i in range(6):
                conns.append(connect_from("127.0.0.1", srv.port))
                options_ok(conns[-1], srv.port, "connection %d with no per-source cap" % i)
        finally:
            for c in conns:
                c.close()
    tmp = tempfile.mkdtemp(prefix="siphon-lim-")
    try:
        for value, want in (("0", 0), ("32", 0), ("1000000", 0), ("-1", 2),
                            ("1000001", 2), ("many", 2)):
            path = os.path.join(tmp, "c.conf")
            with open(path, "w") as f:
                f.write("[server]\ntcp_max_per_source = %s\n" % value)
            rc, _, err = st.run_siphond(bin_dir, ["-c", "-f", path])
            assert rc == want, "tcp_max_per_source = %s: rc %d, wanted %d (%s)" % (
                value, rc, want, err)
            if want:
                assert ":2:" in err and "tcp_max_per_source" in err, err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ second instance

def answers(port):
    with st.udp_socket() as s:
        resp = st.udp_exchange(st.options(port, st.udp_source_port(s)), port, sock=s,
                               timeout=1.0)
    assert st.parse_status(resp)[0] == 200, "UDP OPTIONS: %r" % resp
    resp, _ = st.tcp_exchange(st.options(port, 1, transport="TCP"), port)
    assert st.parse_status(resp)[0] == 200, "TCP OPTIONS: %r" % resp


def second_fails(bin_dir, listens, needle):
    tmp = tempfile.mkdtemp(prefix="siphon-second-")
    try:
        args = ["--data-dir", os.path.join(tmp, "data"), "--workers", "2"]
        for spec in listens:
            args += ["--listen", spec]
        rc, _, err = st.run_siphond(bin_dir, args, cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 1, "second siphond on %s: rc %d, wanted 1:\n%s" % (listens, rc, err)
    assert "already in use (is another siphond running?)" in err, err
    assert needle in err, "message does not name %s:\n%s" % (needle, err)
    for mark in st.SANITIZER_MARKS:
        assert mark not in err, err


def test_second_instance(bin_dir):
    with st.Siphond(bin_dir, extra=["--workers", "2"]) as first:
        p = first.port
        answers(p)
        second_fails(bin_dir, ["udp:127.0.0.1:%d" % p, "tcp:127.0.0.1:%d" % p],
                     "udp:127.0.0.1:%d" % p)
        answers(p)
        # each protocol is checked on its own
        second_fails(bin_dir, ["tcp:127.0.0.1:%d" % p], "tcp:127.0.0.1:%d" % p)
        second_fails(bin_dir, ["udp:127.0.0.1:%d" % p], "udp:127.0.0.1:%d" % p)
        # the wildcard address overlaps ours
        second_fails(bin_dir, ["udp:0.0.0.0:%d" % p], "udp:0.0.0.0:%d" % p)
        # several workers of one siphond on the same address are fine, and so
        # is the same port on another address
        other = st.Siphond(bin_dir, listen=["udp:127.0.0.2:%d" % p, "tcp:127.0.0.2:%d" % p],
                           extra=["--workers", "2"])
        other.start()
        try:
            with st.udp_socket(host="127.0.0.1") as s:
                req = st.options(p, st.udp_source_port(s), ruri="sip:127.0.0.2:%d" % p)
                resp = st.udp_exchange(req, p, host="127.0.0.2", sock=s)
            assert st.parse_status(resp)[0] == 200, "127.0.0.2: %r" % resp
        finally:
            other.stop()
        answers(p)
        assert first.alive(), "the first siphond died"
        assert "already in use" not in first.stderr_text(), first.stderr_text()


def main():
    args = st.setup()
    t = st.Runner()
    for name, fn in [
        ("tcp_max_per_source: 4th from one address closed, others served",
         test_per_source_cap),
        ("refusals logged at most once a second per worker", test_refusal_log_rate),
        ("tcp_max_per_source = 0 is no cap; config range", test_per_source_off_and_config),
        ("second siphond on the same address exits 1", test_second_instance),
    ]:
        t.run(name, fn, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
