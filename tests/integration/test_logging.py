#!/usr/bin/env python3
"""Logging: one line per event, "HH:MM:SS.mmm LEVEL module: text", with the
Call-ID where there is one; nothing below the level ([log] level, or
--log-level); --trace / [log] sip_trace = on prints every SIP message
received and sent; --syslog / [log] target = syslog sends the lines to
syslog (ident siphond, with the pid) and none to stderr (checked against a
/dev/log of our own in a private mount namespace)."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import siphon_test as st

LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (ERROR|WARN|INFO|DEBUG) [\w-]+: ")


def options(port, call_id):
    with st.udp_socket() as s:
        lport = s.getsockname()[1]
        msg = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-"
               "lg%08x;rport\r\nMax-Forwards: 70\r\nFrom: <sip:log@example.com>;tag=l1\r\n"
               "To: <sip:127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
               % (port, lport, random.getrandbits(32), call_id)).encode()
        s.settimeout(0.3)
        for _ in range(20):
            s.sendto(msg, ("127.0.0.1", port))
            try:
                data = s.recv(65535)
            except socket.timeout:
                continue
            if st.parse_status(data)[0] == 200:
                return data
    raise AssertionError("no 200 to OPTIONS on port %d" % port)


def check_lines(text):
    for line in text.splitlines():
        if not line.strip() or line.startswith((" ", "\t")):
            continue
        # a traced message spans lines; everything else is one line per event
        if LINE.match(line) or not re.match(r"^\d\d:\d\d:\d\d", line):
            continue
        raise AssertionError("malformed log line: %r" % line)


def test_info(bin_dir):
    with st.Siphond(bin_dir) as srv:
        options(srv.port, "info-%08x@t" % random.getrandbits(32))
        time.sleep(0.2)
        text = srv.stderr_text()
        assert "DEBUG" not in text, "debug lines at level info:\n" + text
        assert " INFO siphond: siphond " in text, text
        check_lines(text)


def test_debug_call_id(bin_dir):
    cid = "dbg-%08x@t" % random.getrandbits(32)
    with st.Siphond(bin_dir, extra=["--log-level", "debug"]) as srv:
        options(srv.port, cid)
        assert srv.wait_log(cid, 5), srv.stderr_text()
        lines = [l for l in srv.stderr_text().splitlines() if cid in l]
        assert any(LINE.match(l) and " DEBUG " in l for l in lines), lines
        assert "sip: recv" not in srv.stderr_text(), "trace without --trace"


def register(port, call_id, extra):
    """A REGISTER for bob@example.com with extra header lines; its answer."""
    with st.udp_socket() as s:
        lport = st.udp_source_port(s)
        req = ("REGISTER sip:example.com SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%08x;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=%08x\r\n"
               "To: <sip:bob@example.com>\r\nCall-ID: %s\r\nCSeq: 1 REGISTER\r\n"
               "Contact: <sip:bob@127.0.0.1:%d>\r\n%sContent-Length: 0\r\n\r\n"
               % (lport, random.getrandbits(32), random.getrandbits(32), call_id, lport,
                  extra)).encode()
        return st.udp_exchange(req, port, sock=s)


def test_refusal_call_id(bin_dir):
    """Refusals are logged at info with the request's Call-ID: bad credentials
    (400) and a registrar refusal (423)."""
    bad = "bad-%08x@t" % random.getrandbits(32)
    brief = "brief-%08x@t" % random.getrandbits(32)
    cfg = "[domains]\nserve = example.com\n[auth]\nmethods = none\n[registrar]\nmin_expires = 60\n"
    with st.Siphond(bin_dir, config=cfg) as srv:
        code = st.parse_status(register(srv.port, brief, "Expires: 5\r\n"))[0]
        assert code == 423, code
        assert srv.wait_log(brief, 5), srv.stderr_text()
        lines = [l for l in srv.stderr_text().splitlines() if brief in l]
        assert any(" INFO " in l and ": 423 " in l for l in lines), lines
    cfg = "[domains]\nserve = example.com\n[auth]\nmethods = REGISTER\n"
    with st.Siphond(bin_dir, config=cfg) as srv:
        chal = register(srv.port, bad, "")
        assert st.parse_status(chal)[0] == 401, chal
        nonce = re.search(rb'nonce="([^"]+)"', chal).group(1).decode()
        # the challenge's nonce, but no response: malformed, not merely wrong
        resp = register(srv.port, bad, 'Authorization: Digest username="bob", '
                        'realm="example.com", nonce="%s", uri="sip:example.com", '
                        'algorithm=MD5\r\n' % nonce)
        assert st.parse_status(resp) == (400, "Bad Authorization Header"), resp
        assert srv.wait_log(bad, 5), srv.stderr_text()
        lines = [l for l in srv.stderr_text().splitlines() if bad in l]
        assert any(" INFO " in l and "bad credentials" in l for l in lines), lines


def test_trace(bin_dir):
    cid = "trc-%08x@t" % random.getrandbits(32)
    conf = "[log]\nlevel = debug\nsip_trace = on\n"
    for how, kw in (("--trace", {"extra": ["--trace"]}), ("[log] sip_trace", {"config": conf})):
        with st.Siphond(bin_dir, **kw) as srv:
            options(srv.port, cid)
            assert srv.wait_log("DEBUG sip: sent", 5), how + ":\n" + srv.stderr_text()
            text = srv.stderr_text()
            m = re.search(r"DEBUG sip: recv (\d+) bytes udp from 127\.0\.0\.1:\d+:\n"
                          r"OPTIONS sip:127\.0\.0\.1:\d+ SIP/2\.0\n", text.replace("\r", ""))
            assert m, "%s: no received OPTIONS traced:\n%s" % (how, text[-2000:])
            assert re.search(r"DEBUG sip: sent \d+ bytes udp to 127\.0\.0\.1:\d+:\n"
                             r"SIP/2\.0 200 OK\n", text.replace("\r", "")), \
                "%s: no 200 traced:\n%s" % (how, text[-2000:])
            assert "Call-ID: " + cid in text


def quiet_siphond(bin_dir, args):
    """siphond that may log nothing on stderr: ready when OPTIONS gets 200."""
    tmp = tempfile.mkdtemp(prefix="siphond-log-")
    port = st.free_port()
    p = subprocess.Popen([os.path.join(bin_dir, "siphond"), "--listen",
                          "udp:127.0.0.1:%d" % port, "--data-dir", os.path.join(tmp, "data")]
                         + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp)
    st._live_procs.add(p)
    return p, port, tmp


def finish(p, tmp):
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=10)
    finally:
        st._live_procs.discard(p)
        shutil.rmtree(tmp, ignore_errors=True)
    return p.returncode, err.decode("utf-8", "replace")


def test_warn(bin_dir):
    tmp0 = tempfile.mkdtemp(prefix="siphond-logc-")
    conf = os.path.join(tmp0, "siphon.conf")
    with open(conf, "w") as f:
        f.write("[log]\nlevel = warn\n")
    try:
        p, port, tmp = quiet_siphond(bin_dir, ["-f", conf])
        options(port, "warn-%08x@t" % random.getrandbits(32))
        rc, err = finish(p, tmp)
        assert rc == 0, "exit %s: %s" % (rc, err)
        assert "INFO" not in err and "DEBUG" not in err, "below warn:\n" + err
    finally:
        shutil.rmtree(tmp0, ignore_errors=True)


# ---- syslog: a /dev/log of our own in a private mount namespace

def syslog_helper(bin_dir):
    """Runs inside `unshare --mount`: /dev replaced by a directory holding
    null, zero, urandom and our datagram socket log; prints what arrived."""
    d = tempfile.mkdtemp(prefix="siphon-devlog-")
    for n in ("null", "zero", "urandom"):
        open(os.path.join(d, n), "w").close()
        subprocess.run(["mount", "--bind", "/dev/" + n, os.path.join(d, n)], check=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(os.path.join(d, "log"))
    subprocess.run(["mount", "--bind", d, "/dev"], check=True)
    p, port, tmp = quiet_siphond(bin_dir, ["--syslog"])
    options(port, "sl-%08x@t" % random.getrandbits(32))
    rc, err = finish(p, tmp)
    s.settimeout(0.5)
    got = []
    while True:
        try:
            got.append(s.recv(65536).decode("utf-8", "replace"))
        except socket.timeout:
            break
    print("RC %s" % rc)
    print("STDERR %r" % err)
    for g in got:
        print("SYSLOG %r" % g)
    return 0


def test_syslog(bin_dir):
    cmd = ["unshare", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--map-root-user", "--mount"]
    p = subprocess.run(cmd + ["--", sys.executable, os.path.abspath(__file__), "--syslog-helper",
                              os.path.abspath(bin_dir)], capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0 and "unshare" in p.stderr.decode("utf-8", "replace"):
        print("  (skipped: no private mount namespace: %s)" % p.stderr.decode()[:200])
        return
    assert p.returncode == 0 and "RC 0" in out, "helper: %s %s" % (out, p.stderr.decode()[-2000:])
    syslog = [l for l in out.splitlines() if l.startswith("SYSLOG ")]
    assert any("siphond[" in l and "listening on" in l for l in syslog), out
    assert any("siphond stopped" in l for l in syslog), out
    # <daemon.info> = 3*8+6 = 30
    assert any(l.startswith("SYSLOG '<30>") for l in syslog), out
    assert "STDERR ''" in out, "lines on stderr with --syslog: " + out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--syslog-helper":
        return syslog_helper(sys.argv[2])
    args = st.setup()
    t = st.Runner()
    t.run("level info: one line per event, no debug", test_info, args.bin_dir)
    t.run("--log-level debug: a line with the Call-ID, no trace", test_debug_call_id,
          args.bin_dir)
    t.run("refusals at info carry the Call-ID", test_refusal_call_id, args.bin_dir)
    t.run("--trace and [log] sip_trace: every message in and out", test_trace, args.bin_dir)
    t.run("[log] level = warn: nothing below", test_warn, args.bin_dir)
    t.run("--syslog: lines to /dev/log (daemon, ident siphond[pid]), none on stderr",
          test_syslog, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
