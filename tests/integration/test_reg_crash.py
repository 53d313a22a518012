#!/usr/bin/env python3
"""The registrar's durability promise under kill -9: siphond answers 200 to a
REGISTER only once the location service says the binding is committed
(SQLite WAL, synchronous=FULL, group commit), so every AoR whose 200 reached
the client must still be bound after a SIGKILL and a restart on the same
data directory.

Each cycle registers fresh AoRs (userK..) as fast as siphond takes them over
UDP from a few sockets, a window of requests outstanding, each with its own
Call-ID; once a random 20-80 % of the cycle's AoRs have their 200, siphond
gets SIGKILL. 200s already on their way (in our sockets' buffers) count as
acknowledged too: siphond sent them before it died. A new siphond on the same
data directory must then list, for every AoR acknowledged in this or an
earlier cycle, exactly its contact (a fetch REGISTER per AoR: the user-visible
truth). Three cycles; then a fourth with SIGTERM instead, which must
end siphond cleanly (exit 0, no sanitizer report) under that load and keep
every acknowledged AoR as well."""

import os
import random
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

import siphon_test as st
import regtest as rt

N = 3000          # AoRs per cycle
CYCLES = 3
SOCKETS = 4
WINDOW = 96       # requests outstanding at once
RETRANSMIT = 1.0  # seconds before a request is sent again (same branch)
CYCLE_LIMIT = 15  # seconds for one cycle's load
CALL_ID = re.compile(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]+)", re.I)


def call_id(resp):
    m = CALL_ID.search(resp)
    return m.group(1).decode() if m else None


def aor_name(i):
    return "user%d" % i


def contact_uri(i, port):
    return "sip:%s@127.0.0.1:%d" % (aor_name(i), port)


class Pipeline:
    """Requests over SOCKETS UDP sockets, at most WINDOW outstanding, matched
    to responses by Call-ID (unique per request)."""

    def __init__(self, port):
        self.port = port
        self.socks = [st.udp_socket() for _ in range(SOCKETS)]
        self.pending = {}  # call-id -> [key, sock, msg, sent at]
        self.sent = 0

    def close(self):
        for s in self.socks:
            s.close()

    def send(self, key, build):
        """build(call_id, local_port) -> bytes."""
        sock = self.socks[self.sent % SOCKETS]
        self.sent += 1
        cid = rt.new_call_id()
        msg = build(cid, sock.getsockname()[1])
        self.pending[cid] = [key, sock, msg, time.monotonic()]
        sock.sendto(msg, ("127.0.0.1", self.port))

    def poll(self, timeout):
        """[(key, response)] received within timeout; retransmits old ones."""
        out = []
        ready, _, _ = select.select(self.socks, [], [], timeout)
        for s in ready:
            while True:
                try:
                    data = s.recv(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                cid = call_id(data)
                if cid in self.pending and st.parse_status(data)[0] >= 200:
                    out.append((self.pending.pop(cid)[0], data))
        now = time.monotonic()
        for p in self.pending.values():
            if now - p[3] > RETRANSMIT:
                p[1].sendto(p[2], ("127.0.0.1", self.port))
                p[3] = now
        return out


def register_builder(i):
    def build(cid, port):
        return rt.register_msg(cid, 1, user=aor_name(i), contacts=["<%s>" % contact_uri(i, port)],
                               expires=3600, local_port=port)[0]
    return build


def fetch_builder(i):
    def build(cid, port):
        return rt.register_msg(cid, 1, user=aor_name(i), local_port=port)[0]
    return build


def load_and_kill(srv, first, kill_after, sig=signal.SIGKILL):
    """Register AoRs first..first+N-1; SIGKILL (or sig) srv once kill_after of
    them are acknowledged. Returns ({index: contact URI} acknowledged, other answers,
    acknowledged when the kill was sent)."""
    pl = Pipeline(srv.port)
    acked, others = {}, {}
    nxt, killed_at = first, None
    end = time.monotonic() + CYCLE_LIMIT
    try:
        while time.monotonic() < end:
            while killed_at is None and nxt < first + N and len(pl.pending) < WINDOW:
                build = register_builder(nxt)
                pl.send(nxt, build)
                nxt += 1
            for key, resp in pl.poll(0.2 if killed_at is not None else 0.05):
                code = st.parse_status(resp)[0]
                if code == 200:
                    b = rt.bindings(resp)
                    assert len(b) == 1 and b[0][0].startswith("sip:%s@" % aor_name(key)), resp
                    acked[key] = b[0][0]
                else:
                    others[key] = code
            if killed_at is None and len(acked) >= kill_after:
                os.kill(srv.proc.pid, sig)
                killed_at = len(acked)
                end = time.monotonic() + 0.5  # drain what siphond sent before it died
            elif killed_at is None and not pl.pending and nxt >= first + N:
                break
    finally:
        pl.close()
        if killed_at is None:
            os.kill(srv.proc.pid, signal.SIGKILL)
        srv.reap()
    return acked, others, killed_at


def verify(srv, acked):
    """Fetch every acknowledged AoR from srv: {index: problem}."""
    pl = Pipeline(srv.port)
    todo = sorted(acked)
    bad = {}
    got = 0
    end = time.monotonic() + 20
    try:
        while (todo or pl.pending) and time.monotonic() < end:
            while todo and len(pl.pending) < WINDOW:
                i = todo.pop()
                pl.send(i, fetch_builder(i))
            for i, resp in pl.poll(0.05):
                got += 1
                uris = [u for u, _ in rt.bindings(resp)]
                if st.parse_status(resp)[0] != 200:
                    bad[i] = "status %s" % (st.parse_status(resp),)
                elif uris != [acked[i]]:
                    bad[i] = "bindings %s, acknowledged %s" % (uris, acked[i])
        for cid, p in pl.pending.items():
            bad[p[0]] = "no answer to the fetch"
        for i in todo:
            bad[i] = "not fetched in time"
    finally:
        pl.close()
    return bad


def main():
    args = st.setup()
    t = st.Runner()
    root = tempfile.mkdtemp(prefix="siphon-regcrash-")
    rnd = random.Random()
    seed = rnd.randrange(1 << 30)
    rnd.seed(seed)
    print("seed %d" % seed, flush=True)
    srv = rt.RegSiphond(args.bin_dir, os.path.join(root, "data"),
                        config="[auth]\nmethods = none\n[location]\nbackend = sqlite\n",
                        extra=["--workers", "2"])
    all_acked = {}
    try:
        srv.start()
        for cycle in range(CYCLES):
            first = cycle * N
            kill_after = rnd.randint(N * 20 // 100, N * 80 // 100)
            t0 = time.monotonic()
            res = {}

            def load():
                acked, others, killed_at = load_and_kill(srv, first, kill_after)
                res.update(acked=acked, others=others, killed_at=killed_at)
                assert killed_at is not None, "only %d of %d acknowledged in %ss" % (
                    len(acked), N, CYCLE_LIMIT)
                assert not others, "answers other than 200: %s" % sorted(
                    set(others.values()))

            t.run("cycle %d: load, SIGKILL after %d acknowledged" % (cycle, kill_after), load)
            acked = res.get("acked", {})
            print("cycle %d: %d acknowledged when SIGKILL was sent, %d in all (%.0f/s)" % (
                cycle, res.get("killed_at") or 0, len(acked),
                len(acked) / max(time.monotonic() - t0, 1e-3)), flush=True)
            all_acked.update(acked)
            srv.start()  # same data directory, new port
            m = re.search(r"(\d+) bindings loaded", srv.stderr_text())
            print("cycle %d: restarted, %s bindings loaded" % (cycle, m.group(1) if m else "?"),
                  flush=True)

            def check():
                bad = verify(srv, all_acked)
                assert not bad, "%d of %d acknowledged AoRs lost or wrong, e.g. %s" % (
                    len(bad), len(all_acked), sorted(bad.items())[:5])
                assert m and int(m.group(1)) >= len(all_acked), "loaded %s < %d" % (
                    m and m.group(1), len(all_acked))

            t.run("cycle %d: all %d acknowledged AoRs bound after restart" % (
                cycle, len(all_acked)), check)
        # a graceful stop under the same load
        first = CYCLES * N
        kill_after = rnd.randint(N * 20 // 100, N * 80 // 100)
        res = {}

        def term():
            acked, others, killed_at = load_and_kill(srv, first, kill_after, signal.SIGTERM)
            res.update(acked=acked)
            assert killed_at is not None and not others, (killed_at, others)
            text = srv.stderr_text()
            assert srv.proc.returncode == 0, "exit %s:\n%s" % (srv.proc.returncode, text[-2000:])
            assert "siphond stopped" in text, text[-2000:]
            for mark in st.SANITIZER_MARKS:
                assert mark not in text, text[-3000:]

        t.run("SIGTERM under load after %d acknowledged: exit 0" % kill_after, term)
        print("sigterm: %d acknowledged in all" % len(res.get("acked", {})), flush=True)
        all_acked.update(res.get("acked", {}))
        srv.start()

        def check_all():
            bad = verify(srv, all_acked)
            assert not bad, "%d of %d acknowledged AoRs lost or wrong, e.g. %s" % (
                len(bad), len(all_acked), sorted(bad.items())[:5])

        t.run("after SIGTERM: all %d acknowledged AoRs bound" % len(all_acked), check_all)
        t.check("siphond alive", srv.alive())
        t.run("siphond clean exit", srv.stop, True, 10)
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.stop(check=False)
        shutil.rmtree(root, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
