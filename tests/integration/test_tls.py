#!/usr/bin/env python3
"""siphond over TLS (RFC 3261 §26.2.1): certificates made by the test with the
openssl CLI, Python's ssl module as a client that verifies the server with the
test CA. OPTIONS over TLS on IPv4 and IPv6, Via received/rport, pipelined
messages cut at random, a client that stalls in the handshake, non-TLS bytes
on the TLS port, certificate/key errors at start-up and with -c, and a clean
exit on SIGTERM. Runs in a private network namespace."""

import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siphon_test as st  # noqa: E402
from tlscerts import Certs  # noqa: E402

LOCAL = "127.0.0.1"


def tls_connect(certs, port, host=LOCAL, name=None):
    ctx = ssl.create_default_context(cafile=certs.ca)
    raw = st.tcp_connect(port, host)
    return ctx.wrap_socket(raw, server_hostname=name or host)


def via_params(via):
    out = {}
    for p in via.split(";")[1:]:
        k, _, v = p.strip().partition("=")
        out[k.strip().lower()] = v.strip()
    return out


def options_over_tls(certs, srv, host=LOCAL, name=None):
    s = tls_connect(certs, srv.port, host, name)
    try:
        assert s.version() in ("TLSv1.2", "TLSv1.3"), "protocol %s" % s.version()
        sp = s.getsockname()[1]
        req = st.options(srv.port, sp, transport="TLS", host=host)
        s.sendall(req)
        msgs, closed = st.recv_messages(s, 1, 3)
    finally:
        s.close()
    assert msgs, "no response over TLS (closed=%s)" % closed
    code, _ = st.parse_status(msgs[0])
    assert code == 200, "expected 200, got %r" % msgs[0][:200]
    via = st.header(msgs[0], "Via", "v")
    assert via and via[0].upper().startswith("SIP/2.0/TLS"), "Via not copied: %r" % via
    return req, msgs[0], sp


def test_options(certs, srv):
    req, resp, sp = options_over_tls(certs, srv)
    vp = via_params(st.header(resp, "Via", "v")[0])
    # RFC 3581 §4 as for TCP: rport filled, received added
    assert vp.get("rport") == str(sp), "rport not filled: %r" % st.header(resp, "Via")
    assert vp.get("received") == LOCAL, "received missing: %r" % st.header(resp, "Via")
    assert st.header(resp, "Call-ID", "i") == st.header(req, "Call-ID"), "Call-ID not copied"
    # a host name check works as well as the address
    options_over_tls(certs, srv, name="localhost")


def test_pipelined_cut(certs, srv):
    rnd = random.Random(5246)
    for i in range(5):
        s = tls_connect(certs, srv.port)
        try:
            sp = s.getsockname()[1]
            reqs = [st.options(srv.port, sp, transport="TLS") for _ in range(2)]
            ids = [st.header(r, "Call-ID")[0] for r in reqs]
            data = b"".join(reqs)
            cuts = [rnd.randint(1, len(data) - 1) for _ in range(rnd.randint(1, 6))]
            st.send_chunks(s, data, cuts, pause=0.002)  # one TLS record per piece
            msgs, closed = st.recv_messages(s, 2, 3)
        finally:
            s.close()
        got = [(st.header(m, "Call-ID", "i") or [None])[0] for m in msgs]
        assert got == ids, "round %d cuts %s: got %r wanted %r (closed=%s)" % (
            i, sorted(cuts), got, ids, closed)


def test_handshake_stall(certs, srv):
    # connects, starts nothing: closed after [tls] handshake_timeout (1 s)
    s = st.tcp_connect(srv.port)
    s2 = st.tcp_connect(srv.port)
    try:
        s2.sendall(b"\x16\x03\x01\x00\xff\x01")  # half a ClientHello header, then silence
        t0 = time.monotonic()
        assert st.wait_closed(s, 4), "a silent client was not closed"
        assert st.wait_closed(s2, 2), "a stalled handshake was not closed"
        took = time.monotonic() - t0
        assert 0.5 < took < 3.5, "closed after %.2fs, wanted about 1 s" % took
    finally:
        s.close()
        s2.close()
    assert srv.wait_log("no handshake within", 2), "handshake timeout not logged"


def test_garbage(certs, srv):
    rnd = random.Random(8446)
    junk = [st.options(srv.port, 1, transport="TLS"), b"\r\n\r\n",
            b"\x16\x03\x03\x00\x05hello", bytes(rnd.getrandbits(8) for _ in range(3000))]
    for j in junk:
        s = st.tcp_connect(srv.port)
        try:
            try:
                s.sendall(j)
            except OSError:
                pass
            data, closed = st.recv_raw(s, 3)
            assert closed, "non-TLS bytes %r did not close the connection" % j[:20]
            assert b"SIP/2.0" not in data, "answered in clear: %r" % data[:80]
        finally:
            s.close()
    assert srv.alive(), "siphond died on non-TLS input"
    options_over_tls(certs, srv)


def test_wrong_ca_client(certs, srv):
    # a client that trusts another CA refuses the server; the server survives
    ctx = ssl.create_default_context()  # system store: does not know the test CA
    raw = st.tcp_connect(srv.port)
    try:
        try:
            ctx.wrap_socket(raw, server_hostname=LOCAL)
            raise AssertionError("a client without the test CA accepted the server")
        except ssl.SSLCertVerificationError:
            pass
    finally:
        raw.close()
    # TLS 1.1 is refused by the server (RFC 8996)
    warnings.simplefilter("ignore", DeprecationWarning)  # TLSVersion.TLSv1_1
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(certs.ca)
    try:
        old.minimum_version = ssl.TLSVersion.TLSv1_1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("DEFAULT@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        old = None
    if old is not None:
        raw = st.tcp_connect(srv.port)
        try:
            try:
                old.wrap_socket(raw, server_hostname=LOCAL)
                raise AssertionError("a TLS 1.1 client was accepted")
            except (ssl.SSLError, OSError):
                pass
        finally:
            raw.close()
    options_over_tls(certs, srv)


def test_ipv6(certs, bin_dir):
    with st.Siphond(bin_dir, listen=["tls:[::1]:{port}"], config=certs.conf(),
                    host="::1") as srv:
        assert "tls:[::1]:%d" % srv.port in srv.stderr_text(), "start line lacks tls:[::1]"
        _, resp, sp = options_over_tls(certs, srv, host="::1")
        vp = via_params(st.header(resp, "Via", "v")[0])
        assert vp.get("rport") == str(sp), "rport over IPv6: %r" % st.header(resp, "Via")


def test_startup_errors(certs, bin_dir):
    tmp = tempfile.mkdtemp(prefix="siphond-tlsconf-")
    try:
        def conf(text):
            path = os.path.join(tmp, "c%d.conf" % random.getrandbits(32))
            with open(path, "w") as f:
                f.write(text)
            return path

        missing = os.path.join(tmp, "nope.pem")
        listen = ["--listen", "tls:127.0.0.1:%d" % st.free_port(),
                  "--data-dir", os.path.join(tmp, "data")]
        cases = [
            # (config text, run rc, -c rc, needles)
            (certs.conf(cert=missing), 1, 2, [missing]),
            (certs.conf(key=missing), 1, 2, [missing, "private key"]),
            (certs.conf(key=certs.ca_key), 1, 2, ["does not match"]),
            (certs.conf(cert=certs.csr), 1, 2, [certs.csr]),
            (certs.conf(extra="ca_file = %s\n" % missing), 1, 2, [missing]),
            ("[log]\nlevel = info\n", 2, 2, ["certificate"]),
            (certs.conf(extra="verify_peer = maybe\n"), 2, 2, ["verify_peer"]),
        ]
        for text, run_rc, check_rc, needles in cases:
            path = conf(text)
            rc, _, err = st.run_siphond(bin_dir, ["-f", path] + listen)
            assert rc == run_rc, "start with %r: rc %d, wanted %d: %s" % (text, rc, run_rc, err)
            for n in needles:
                assert n in err, "start with %r: error lacks %r: %s" % (text, n, err)
            for mark in st.SANITIZER_MARKS:
                assert mark not in err, err
            rc, _, err = st.run_siphond(bin_dir, ["-c", "-f", path] + listen)
            assert rc == check_rc, "-c with %r: rc %d: %s" % (text, rc, err)
            for n in needles:
                assert n in err, "-c with %r: error lacks %r: %s" % (text, n, err)
        rc, out, err = st.run_siphond(bin_dir, ["-c", "-f", conf(certs.conf(
            extra="ca_file = %s\nverify_peer = no\n" % certs.ca))] + listen)
        assert rc == 0, "-c with a good TLS config: %d %s" % (rc, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    args = st.setup()
    t = st.Runner()
    try:
        certs = Certs(handshake_timeout=1)
    except (OSError, subprocess.SubprocessError) as e:
        t.check("openssl CLI makes the test certificates", False, str(e))
        return t.finish()
    try:
        try:
            srv = st.Siphond(args.bin_dir, listen=["tls:127.0.0.1:{port}", "udp:127.0.0.1:{port}"],
                             config=certs.conf())
            srv.start()
        except Exception as e:  # noqa: BLE001
            t.check("siphond starts with a TLS listener", False, str(e))
            return t.finish()
        try:
            assert "tls:127.0.0.1:%d" % srv.port in srv.stderr_text()
            for name, fn in [
                ("options over tls, same connection, received/rport", test_options),
                ("tls 2 pipelined messages cut at random", test_pipelined_cut),
                ("tls handshake stall closed after the timeout", test_handshake_stall),
                ("non-TLS bytes on the tls port", test_garbage),
                ("client without the CA / TLS 1.1 client refused", test_wrong_ca_client),
            ]:
                t.run(name, fn, certs, srv)
        finally:
            t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
        t.run("tls on ipv6 [::1]", test_ipv6, certs, args.bin_dir)
        t.run("certificate and key errors at start and with -c", test_startup_errors, certs,
              args.bin_dir)
    finally:
        certs.remove()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
