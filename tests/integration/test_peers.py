#!/usr/bin/env python3
"""siphond against real SIP peers: SIPp (sip-tester) and sipsak, over UDP and
TCP on loopback, inside a private network namespace."""

import os
import shutil
import subprocess
import sys

import siphon_test as st

HERE = os.path.dirname(os.path.abspath(__file__))


def sipp(srv, scenario, transport, calls=50, rate=200, tmp=None):
    """Run a SIPp UAC scenario against srv; assert every call succeeded."""
    port = st.free_port()
    cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", scenario),
           "-t", transport, "-i", "127.0.0.1", "-p", str(port),
           "-m", str(calls), "-r", str(rate), "-l", "20",
           "-nostdin", "-timeout", "20s", "-timeout_error", "-max_recv_loops", "1000",
           "-trace_err", "-error_file", os.path.join(tmp, "err.log"),
           "127.0.0.1:%d" % srv.port]
    p = subprocess.run(cmd, capture_output=True, timeout=40, cwd=tmp)
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    err = ""
    if os.path.exists(os.path.join(tmp, "err.log")):
        with open(os.path.join(tmp, "err.log"), errors="replace") as f:
            err = f.read()[-3000:]
    # SIPp exits 0 only when every call succeeded
    assert p.returncode == 0, "sipp %s/%s exit %d\n%s\n%s" % (scenario, transport, p.returncode,
                                                             out[-2000:], err)


def sipsak_options(srv, transport):
    cmd = ["sipsak", "-s", "sip:127.0.0.1:%d" % srv.port, "-H", "127.0.0.1", "-vv"]
    if transport == "tcp":
        cmd += ["-E", "tcp"]
    p = subprocess.run(cmd, capture_output=True, timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    # sipsak exits 0 on a 200 to its OPTIONS
    assert p.returncode == 0, "sipsak exit %d:\n%s" % (p.returncode, out[-2000:])
    assert "SIP/2.0 200 OK" in out, out[-2000:]
    assert "Allow: OPTIONS" in out, out[-2000:]


def main():
    args = st.setup()
    t = st.Runner()
    for tool in ("sipp", "sipsak"):
        if not shutil.which(tool):
            print("FATAL: %s is not installed (scripts/install-deps --test)" % tool)
            return 1
    tmp = st.tempfile.mkdtemp(prefix="siphon-peers-")
    try:
        with st.Siphond(args.bin_dir) as srv:
            for tr, name in (("u1", "udp"), ("t1", "tcp")):
                t.run("sipp options %s" % name, sipp, srv, "options_uac.xml", tr, tmp=tmp)
                t.run("sipp 483 %s" % name, sipp, srv, "hops_uac.xml", tr, tmp=tmp)
                t.run("sipp 400 Bad Max-Forwards %s" % name, sipp, srv, "badmf_uac.xml", tr, tmp=tmp)
            t.run("sipsak options udp", sipsak_options, srv, "udp")
            t.run("sipsak options tcp", sipsak_options, srv, "tcp")
            t.check("siphond alive after peers", srv.alive())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
