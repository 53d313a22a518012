#!/usr/bin/env python3
"""siphond's status page (GET /) in headless Chromium: after a REGISTER the
registration shows up in the rendered DOM, the counters follow live traffic
(the page refreshes itself every 2 s from /api/stats and /api/location) and
a flushed binding disappears. Chromium is driven through chromedriver's
W3C WebDriver protocol over plain HTTP (standard library only; Debian
packages chromium and chromium-driver). Skipped (exit 0 with a note) when
they are not installed. Loopback, private netns."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import regtest as rt
import siphon_test as st

USERS = {"alice": "alice-pw", "bob": "bob-pw"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


class WebDriver:
    """The few WebDriver commands the test needs."""

    def __init__(self, tmp):
        self.port = st.free_port()
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp)
        self.log = open(os.path.join(tmp, "chromedriver.log"), "w")
        self.proc = subprocess.Popen([DRIVER, "--port=%d" % self.port], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        st._live_procs.add(self.proc)
        self.base = "http://127.0.0.1:%d" % self.port
        end = time.monotonic() + 20
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except OSError:
                pass
            assert time.monotonic() < end, "chromedriver did not start"
            time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--user-data-dir=" + self.profile]}}}}
        self.sid = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as f:
                return json.loads(f.read())["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError("webdriver %s %s: %s" % (method, path, e.read()[:500]))

    def get(self, url):
        self._call("POST", "/session/%s/url" % self.sid, {"url": url})

    def js(self, script, *args):
        return self._call("POST", "/session/%s/execute/sync" % self.sid,
                          {"script": script, "args": list(args)})

    def wait(self, script, timeout=10, what="the page"):
        end = time.monotonic() + timeout
        while True:
            v = self.js(script)
            if v:
                return v
            assert time.monotonic() < end, "timed out waiting for %s (%s)" % (what, script)
            time.sleep(0.2)

    def close(self):
        try:
            if getattr(self, "sid", None):
                self._call("DELETE", "/session/%s" % self.sid)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        st._live_procs.discard(self.proc)
        self.log.close()


ROWS = "return Array.from(document.querySelectorAll('#registrations tbody tr'))" \
       ".map(r => [r.dataset.aor, r.cells[1].textContent, r.cells[4].textContent]);"


def text(wd, id_):
    return wd.js("return document.getElementById(arguments[0]).textContent;", id_)


def test_page(wd, srv, hport):
    wd.get("http://127.0.0.1:%d/" % hport)
    assert wd.js("return document.title;") == "Siphon status"
    # the first refresh fills the header from /api/health
    wd.wait("return document.getElementById('pid').textContent === '%d';" % srv.proc.pid,
            what="the pid from /api/health")
    assert text(wd, "backend") == "sqlite (up)"
    assert wd.js(ROWS) == [], "registrations before any REGISTER"
    reg0 = int(text(wd, "c-requests"))

    with rt.UA(srv.port, "alice", password=USERS["alice"]) as u:
        resp = u.register(contacts=[u.contact()], expires=600)
        assert rt.status(resp)[0] == 200, resp
        contact, lport = u.contact_uri(), u.local_port
    # the page picks it up by itself (refresh every 2 s)
    rows = wd.wait(ROWS[:-1] + ".filter(r => r[0] === 'sip:alice@example.com');", 8,
                   "alice's registration in the DOM")
    assert rows == [["sip:alice@example.com", contact, "udp:127.0.0.1:%d" % lport]], rows
    wd.wait("return document.getElementById('c-aors').textContent === '1';", 8, "1 AoR")
    wd.wait("return Number(document.getElementById('c-requests').textContent) >= %d;"
            % (reg0 + 2), 8, "the request counter to move")
    wd.wait("return Array.from(document.querySelectorAll('#methods tbody tr'))"
            ".some(r => r.dataset.method === 'REGISTER');", 8, "REGISTER in the method table")

    # counters keep updating: more traffic, more requests, more refreshes
    n0 = int(text(wd, "refreshes"))
    before = int(text(wd, "c-requests"))
    with rt.UA(srv.port, "bob", password=USERS["bob"]) as u:
        assert rt.status(u.register(contacts=[u.contact()], expires=600))[0] == 200
    wd.wait("return Number(document.getElementById('c-requests').textContent) >= %d;"
            % (before + 2), 8, "the counter to follow new traffic")
    wd.wait("return document.getElementById('c-bindings').textContent === '2';", 8, "2 bindings")
    assert int(text(wd, "refreshes")) > n0
    assert text(wd, "error") == "", text(wd, "error")

    # a flushed binding leaves the page
    req = urllib.request.Request("http://127.0.0.1:%d/api/location?aor=sip:alice@example.com"
                                 % hport, method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as f:
        assert f.status == 200
    wd.wait(ROWS[:-1] + ".every(r => r[0] !== 'sip:alice@example.com');", 8,
            "alice to leave the page")
    assert [r[0] for r in wd.js(ROWS)] == ["sip:bob@example.com"]


def test_no_markup_from_data(wd, srv, hport):
    """A User-Agent full of markup is shown as text, not parsed."""
    evil = "<img src=x onerror=window.pwned=1><b>ua</b>"
    with rt.UA(srv.port, "alice", password=USERS["alice"]) as u:
        msg, br = rt.register_msg(u.call_id, 50, user="alice", contacts=[u.contact()],
                                  expires=600, local_port=u.local_port, from_tag=u.from_tag)
        msg = msg.replace(b"User-Agent: regtest", b"User-Agent: " + evil.encode())
        resp = u.exchange(msg, br)
        u.chal = u.pick(resp)
        msg, br = rt.register_msg(u.call_id, 51, user="alice", contacts=[u.contact()],
                                  expires=600, local_port=u.local_port, from_tag=u.from_tag,
                                  auth=u.authz())
        msg = msg.replace(b"User-Agent: regtest", b"User-Agent: " + evil.encode())
        assert rt.status(u.exchange(msg, br))[0] == 200
    wd.wait("return Array.from(document.querySelectorAll('#registrations tbody tr td'))"
            ".some(td => td.textContent === arguments[0]);".replace("arguments[0]",
                                                                    json.dumps(evil)),
            8, "the User-Agent as text")
    assert wd.js("return document.querySelectorAll('#registrations img, #registrations b')"
                 ".length;") == 0
    assert wd.js("return window.pwned === undefined;")


def main():
    args = st.setup()
    bin_dir = os.path.abspath(args.bin_dir)
    t = st.Runner()
    if not CHROMIUM or not DRIVER:
        print("SKIP: chromium and chromium-driver are not installed (scripts/install-deps --test)")
        return 0
    tmp = tempfile.mkdtemp(prefix="siphond-page-")
    hport = st.free_port()
    srv = rt.RegSiphond(bin_dir, os.path.join(tmp, "data"),
                        config="[http]\nlisten = 127.0.0.1:%d\n" % hport,
                        extra=["--workers", "2"], users=USERS)
    wd = None
    try:
        srv.start()
        wd = WebDriver(tmp)
        t.run("status page: registrations and live counters in Chromium", test_page, wd, srv,
              hport)
        t.run("status page: data shown as text, never markup", test_no_markup_from_data, wd, srv,
              hport)
    except Exception as e:  # noqa: BLE001
        t.check("set-up (siphond, chromedriver, chromium)", False, str(e))
    finally:
        if wd:
            wd.close()
        if srv.proc:
            t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
