#!/usr/bin/env python3
"""siphon register against siphond's registrar (digest auth, MD5 and
SHA-256 offered; siphon answers the first it supports, SHA-256):

- --expires 1 below min_expires (2): 423 Interval Too Brief, siphon asks
  again with the Min-Expires (RFC 3261 §10.2.8), is granted 2 s, refreshes
  before each expiry (halfway) so the binding never lapses (a fetch during
  the run lists it), and at the end of --duration unregisters (expires 0):
  a fetch afterwards finds no binding; exit 0;
- Ctrl-C also unregisters;
- register without --user is a usage error (64)."""

import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regtest as rt  # noqa: E402
import siphon_test as st  # noqa: E402
import uatest as ua  # noqa: E402

USERS = {"carol": "carol-Secret-3"}
CONF = "[registrar]\nmin_expires = 2\n"


def fetch(srv):
    with rt.UA(srv.port, user="carol", password=USERS["carol"]) as u:
        return u.fetch()


def refresh_and_unregister(bin_dir, srv, pw):
    p = ua.Siphon(bin_dir, ["--user", "sip:carol@%s" % rt.DOMAIN, "--password-file", pw,
                            "--proxy", "sip:127.0.0.1:%d" % srv.port, "register",
                            "--expires", "1", "--duration", "4.2"])
    first = p.must_event("registered", 10)
    assert first["expires"] == 2, first
    time.sleep(2.5)  # past the first grant: only refreshes keep it
    got = fetch(srv)
    assert len(got) == 1, "binding lapsed: %s\n%s" % (got, p.stderr())
    assert p.wait(15) == 0, p.stderr()
    n = len(p.names("registered"))
    assert n >= 4, "%d REGISTERs granted in 4.2 s of 2 s grants\n%s" % (n, p.stderr())
    p.must_event("unregistered", 0)
    assert fetch(srv) == {}, fetch(srv)


def ctrl_c_unregisters(bin_dir, srv, pw):
    p = ua.Siphon(bin_dir, ["--user", "sip:carol@%s" % rt.DOMAIN, "--password-file", pw,
                            "--proxy", "sip:127.0.0.1:%d" % srv.port, "register"])
    p.must_event("registered", 10)
    assert len(fetch(srv)) == 1
    p.signal(signal.SIGINT)
    assert p.wait(10) == 0, p.stderr()
    p.must_event("unregistered", 0)
    assert fetch(srv) == {}


def usage(bin_dir):
    p = ua.Siphon(bin_dir, ["register"])
    assert p.wait(10) == 64


def main():
    args = st.setup()
    t = st.Runner()
    root = tempfile.mkdtemp(prefix="siphon-ua-reg-")
    srv = rt.RegSiphond(args.bin_dir, os.path.join(root, "data"), config=CONF, users=USERS,
                        extra=["--workers", "1"])
    srv.listen = ["udp:127.0.0.1:{port}"]
    srv.start()
    pw = ua.write_password(os.path.join(root, "pw"), USERS["carol"])
    try:
        t.run("423 -> Min-Expires, refreshed before expiry, unregistered at the end",
              refresh_and_unregister, args.bin_dir, srv, pw)
        t.run("Ctrl-C unregisters", ctrl_c_unregisters, args.bin_dir, srv, pw)
        t.run("register without --user: exit 64", usage, args.bin_dir)
    finally:
        t.run("siphond stops cleanly", srv.stop)
        shutil.rmtree(root, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
