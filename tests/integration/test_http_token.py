#!/usr/bin/env python3
"""The HTTP interface behind a token ([http] token_file, docs/http.md):

- without it, or with a wrong one, every path but /api/health gets 401 with
  WWW-Authenticate (Basic and Bearer), and a DELETE removes nothing;
- "Authorization: Bearer TOKEN" and Basic with the token as the password
  (what a browser sends for the status page) are let in;
- refusals are logged, not one line per request;
- siphonctl finds the token through the config file (-f) or --token-file,
  and fails (exit 1, HTTP 401) with a wrong one;
- a token file that is missing, or holds a token too short, stops siphond
  at start (exit 1) and fails siphond -c (exit 2).

Loopback, private netns."""

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regtest as rt  # noqa: E402
import siphon_test as st  # noqa: E402


STATS_KEY = "transactions_active"  # a key /api/stats always has


def get(hport, path, auth=None, method="GET"):
    """(status, headers, body) of one request; auth is the Authorization
    header value or None."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (hport, path), method=method)
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=10) as f:
            return f.status, f.headers, f.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def test_refused(hport, token):
    for auth in (None, "Bearer " + "x" * len(token), "Bearer " + token[:-1],
                 "Bearer " + token + "x", "Basic " + token, basic("ops", token[1:]),
                 "Digest " + token, "bearer"):
        for path in ("/metrics", "/api/stats", "/api/location", "/", "/nope",
                     "/api/health/../metrics", "/api/health/", "/api/healthx"):
            code, hdrs, body = get(hport, path, auth)
            assert code == 401, "%s with %r: %d" % (path, auth, code)
            www = hdrs.get_all("WWW-Authenticate") or []
            assert any(w.startswith("Basic realm=") for w in www), www
            assert any(w.startswith("Bearer realm=") for w in www), www
            assert "token_file" in json.loads(body)["error"], body


def test_let_in(hport, token):
    code, _, body = get(hport, "/metrics", "Bearer " + token)
    assert code == 200 and b"siphon_" in body, (code, body[:200])
    # the scheme is case-insensitive (RFC 9110 §11.1)
    code, _, _ = get(hport, "/api/stats", "bearer  " + token)
    assert code == 200, code
    # a browser on the status page: Basic, any user name, the token as password
    code, _, body = get(hport, "/", basic("ops", token))
    assert code == 200 and b"<html" in body.lower(), (code, body[:100])
    code, _, body = get(hport, "/api/stats", basic("", token))
    assert code == 200, code
    # a load balancer's health check needs nothing
    code, _, body = get(hport, "/api/health")
    assert code == 200 and json.loads(body)["status"] == "ok", (code, body)


def test_delete_needs_token(hport, token, srv):
    """A DELETE without the token removes nothing; with it, the binding goes."""
    with st.udp_socket() as s:
        msg, _ = rt.register_msg(rt.new_call_id(), 1, user="carol",
                                 contacts=["<sip:carol@127.0.0.1:5999>"], expires=300)
        s.sendto(msg, ("127.0.0.1", srv.port))
        s.settimeout(5)
        assert st.parse_status(s.recv(65535))[0] == 200
    aor = "?aor=sip:carol@example.com"
    code, _, _ = get(hport, "/api/location" + aor, method="DELETE")
    assert code == 401, code
    code, _, body = get(hport, "/api/location" + aor, "Bearer " + token)
    assert code == 200 and len(json.loads(body)["contacts"]) == 1, (code, body)
    code, _, body = get(hport, "/api/location" + aor, "Bearer " + token, method="DELETE")
    assert code == 200 and json.loads(body)["bindings"] == 1, (code, body)


def test_log_bounded(srv, hport):
    """Over 70 refusals so far (these 30 and the earlier tests'): at least
    one line, far from one each (a line a second at most)."""
    for _ in range(30):
        assert get(hport, "/metrics")[0] == 401
    assert srv.wait_log("refused a request from 127.0.0.1", 5), srv.stderr_text()[-1000:]
    n = srv.stderr_text().count("refused a request from 127.0.0.1")
    assert n < 30, "refusals logged: %d lines for over 70" % n


def ctl(bin_dir, *args, want=0):
    p = subprocess.run([os.path.join(bin_dir, "siphonctl")] + list(args), capture_output=True,
                       text=True, timeout=30)
    for mark in st.SANITIZER_MARKS:
        assert mark not in p.stderr, "sanitizer report:\n" + p.stderr
    assert p.returncode == want, "siphonctl %s: exit %d, wanted %d\n%s%s" % (
        " ".join(args), p.returncode, want, p.stdout, p.stderr)
    return p


def test_siphonctl(bin_dir, conf_path, hport, tmp):
    # the token file named by the config file
    out = json.loads(ctl(bin_dir, "-f", conf_path, "--json", "stats").stdout)
    assert STATS_KEY in out, out
    # --token-file, and a wrong token
    good = os.path.join(tmp, "token")
    wrong = os.path.join(tmp, "wrong")
    with open(wrong, "w") as f:
        f.write(secrets.token_hex(20) + "\n")
    http = "127.0.0.1:%d" % hport
    ctl(bin_dir, "--http", http, "--token-file", good, "stats")
    p = ctl(bin_dir, "--http", http, "--token-file", wrong, "stats", want=1)
    assert "HTTP 401" in p.stderr, p.stderr
    p = ctl(bin_dir, "--http", http, "stats", want=1)
    assert "HTTP 401" in p.stderr, p.stderr
    p = ctl(bin_dir, "--http", http, "--token-file", os.path.join(tmp, "none"), "stats", want=1)
    assert "token file" in p.stderr, p.stderr
    # health stays open, also for whoever may not read the token file
    ctl(bin_dir, "--http", http, "health")
    ctl(bin_dir, "--http", http, "--token-file", os.path.join(tmp, "none"), "health")


def test_bad_token_files(bin_dir, tmp):
    short = os.path.join(tmp, "short")
    with open(short, "w") as f:
        f.write("tooshort\n")
    missing = os.path.join(tmp, "missing")
    listen = ["--listen", "udp:127.0.0.1:%d" % st.free_port(),
              "--data-dir", os.path.join(tmp, "data-bad"), "--http",
              "127.0.0.1:%d" % st.free_port()]
    for path, needle in ((missing, missing), (short, "shorter than 16")):
        conf = os.path.join(tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("[http]\ntoken_file = %s\n" % path)
        rc, _, err = st.run_siphond(bin_dir, ["-f", conf] + listen)
        assert rc == 1 and needle in err, (rc, err)
        rc, _, err = st.run_siphond(bin_dir, ["-c", "-f", conf] + listen)
        assert rc == 2 and needle in err, (rc, err)


def main():
    args = st.setup()
    args.bin_dir = os.path.abspath(args.bin_dir)
    t = st.Runner()
    tmp = tempfile.mkdtemp(prefix="siphond-token-")
    token = secrets.token_urlsafe(32)
    tok_path = os.path.join(tmp, "token")
    with open(tok_path, "w") as f:
        f.write("  %s  \n# the first line only\n" % token)
    os.chmod(tok_path, 0o600)
    hport = st.free_port()
    conf = ("[domains]\nserve = example.com\n[auth]\nmethods = none\n[location]\n"
            "backend = memory\n[http]\nlisten = 127.0.0.1:%d\ntoken_file = %s\n" % (
                hport, tok_path))
    conf_path = os.path.join(tmp, "siphon.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    srv = st.Siphond(args.bin_dir, config=conf)
    try:
        srv.start()
        try:
            t.run("no or a wrong token: 401 with WWW-Authenticate", test_refused, hport, token)
            t.run("Bearer and Basic with the token are let in; health is open",
                  test_let_in, hport, token)
            t.run("DELETE /api/location needs the token", test_delete_needs_token, hport,
                  token, srv)
            t.run("refusals logged, not one line each", test_log_bounded, srv, hport)
            t.run("siphonctl: token from -f or --token-file; a wrong one fails",
                  test_siphonctl, args.bin_dir, conf_path, hport, tmp)
        finally:
            t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
        t.run("token file missing or too short: exit 1, -c exit 2", test_bad_token_files,
              args.bin_dir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
