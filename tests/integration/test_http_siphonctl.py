#!/usr/bin/env python3
"""siphonctl against a running siphond: health, stats, location show / dump
/ flush (human and --json output), reload (SIGHUP to the pid /api/health
reports: siphond logs it and keeps serving), the HTTP address from
--http or from the config file's [http] listen (-f), exit 1 when the server
is unreachable, 64 for a malformed command line. Loopback, private netns."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import regtest as rt
import siphon_test as st

USERS = {"alice": "alice-pw", "bob": "bob-pw"}


class Ctl:
    def __init__(self, bin_dir, http=None, config=None):
        self.exe = os.path.join(bin_dir, "siphonctl")
        self.http = http
        self.config = config

    def run(self, *args, want=0, http=True):
        cmd = [self.exe]
        if http and self.http:
            cmd += ["--http", self.http]
        if self.config:
            cmd += ["-f", self.config]
        cmd += list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        for mark in st.SANITIZER_MARKS:
            assert mark not in p.stderr, "sanitizer report:\n" + p.stderr
        assert p.returncode == want, "%s: exit %d, wanted %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, want, p.stdout, p.stderr)
        return p

    def json(self, *args):
        return json.loads(self.run("--json", *args).stdout)


def register(srv, user, **kw):
    with rt.UA(srv.port, user, password=USERS[user]) as u:
        resp = u.register(contacts=[u.contact()], expires=600, **kw)
        assert rt.status(resp)[0] == 200, resp
        return u.contact_uri()


def test_health(c, srv):
    p = c.run("health")
    assert "status ok" in p.stdout and "pid %d" % srv.proc.pid in p.stdout, p.stdout
    assert "location sqlite: up" in p.stdout, p.stdout
    j = c.json("health")
    assert j["pid"] == srv.proc.pid and j["workers"] == 2, j


def test_location(c, srv):
    alice = register(srv, "alice")
    bob = register(srv, "bob")
    p = c.run("location", "show", "sip:alice@example.com")
    assert p.stdout.startswith("sip:alice@example.com\n") and alice in p.stdout, p.stdout
    assert "received udp:127.0.0.1:" in p.stdout, p.stdout
    j = c.json("location", "show", "sip:alice@EXAMPLE.com")
    assert [x["contact"] for x in j["contacts"]] == [alice], j
    p = c.run("location", "show", "sip:nobody@example.com")
    assert "(no bindings)" in p.stdout, p.stdout
    p = c.run("location", "dump")
    assert alice in p.stdout and bob in p.stdout, p.stdout
    j = c.json("location", "dump")
    assert sorted(a["aor"] for a in j["aors"]) == ["sip:alice@example.com",
                                                    "sip:bob@example.com"], j


def test_stats(c):
    p = c.run("stats")
    assert "requests received:" in p.stdout and "REGISTER=" in p.stdout, p.stdout
    assert "registrations: 2 bindings, 2 AoRs" in p.stdout, p.stdout
    j = c.json("stats")
    assert j["requests"]["by_method"]["REGISTER"] >= 4 and j["registrations"]["aors"] == 2, j


def test_flush(c, srv):
    p = c.run("location", "flush", "sip:alice@example.com")
    assert "removed 1 bindings of 1 AoRs" in p.stdout, p.stdout
    with rt.UA(srv.port, "alice", password=USERS["alice"]) as u:
        assert u.fetch() == {}, "alice still bound after siphonctl location flush"
    with rt.UA(srv.port, "bob", password=USERS["bob"]) as u:
        assert u.fetch(), "flushing alice removed bob too"
    j = c.json("location", "flush")
    assert j == {"aors": 1, "bindings": 1}, j
    with rt.UA(srv.port, "bob", password=USERS["bob"]) as u:
        assert u.fetch() == {}, "bob still bound after flush of everything"
    assert c.json("location", "dump") == {"aors": []}


def test_reload(c, srv):
    n = srv.stderr_text().count("SIGHUP")
    p = c.run("reload")
    assert "SIGHUP to pid %d" % srv.proc.pid in p.stdout, p.stdout
    end = time.monotonic() + 5
    while srv.stderr_text().count("SIGHUP") == n and time.monotonic() < end:
        time.sleep(0.05)
    assert srv.stderr_text().count("SIGHUP") > n, "siphond logged no SIGHUP:\n" + \
        srv.stderr_text()[-800:]
    assert srv.alive(), "siphond died on reload"
    c.run("health")


def test_config_file(bin_dir, srv, hport):
    """No --http: the address comes from the config file's [http] listen."""
    tmp = tempfile.mkdtemp(prefix="siphonctl-conf-")
    try:
        path = os.path.join(tmp, "siphon.conf")
        with open(path, "w") as f:
            f.write("# siphond's file\n[server]\nworkers = 2\n[http]\nlisten = 127.0.0.1:%d\n" % hport)
        c = Ctl(bin_dir, config=path)
        assert c.json("health")["pid"] == srv.proc.pid
        # --http wins over the file
        Ctl(bin_dir, http="127.0.0.1:1", config=path).run("health", want=1)
        Ctl(bin_dir, config=os.path.join(tmp, "missing.conf")).run("health", want=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_errors(bin_dir):
    c = Ctl(bin_dir, http="127.0.0.1:1")
    p = c.run("health", want=1)
    assert "cannot reach siphond" in p.stderr, p.stderr
    Ctl(bin_dir, http="nonsense").run("stats", want=1)
    for args in (["location"], ["location", "show"], ["location", "frob"],
                 ["location", "show", "a", "b"], ["stats", "extra"], ["health", "x"],
                 ["reload", "now"], ["frob"], ["--replace", "stats"]):
        Ctl(bin_dir).run(*args, want=64)


def main():
    args = st.setup()
    bin_dir = os.path.abspath(args.bin_dir)
    t = st.Runner()
    tmp = tempfile.mkdtemp(prefix="siphond-ctl-")
    hport = st.free_port()
    srv = rt.RegSiphond(bin_dir, os.path.join(tmp, "data"),
                        config="[http]\nlisten = 127.0.0.1:%d\n" % hport,
                        extra=["--workers", "2"], users=USERS)
    try:
        srv.start()
    except Exception as e:  # noqa: BLE001
        t.check("siphond starts", False, str(e))
        shutil.rmtree(tmp, ignore_errors=True)
        return t.finish()
    c = Ctl(bin_dir, http="127.0.0.1:%d" % hport)
    try:
        t.run("siphonctl health", test_health, c, srv)
        t.run("siphonctl location show / dump", test_location, c, srv)
        t.run("siphonctl stats", test_stats, c)
        t.run("siphonctl location flush [AOR]: gone for SIP too", test_flush, c, srv)
        t.run("siphonctl reload: SIGHUP, still serving", test_reload, c, srv)
        t.run("HTTP address from the config file", test_config_file, bin_dir, srv, hport)
        t.run("unreachable server: 1; bad command line: 64", test_errors, bin_dir)
    finally:
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
