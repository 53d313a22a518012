"""Registrar test helpers shared by test_registrar.py and test_reg_crash.py
(Python 3 standard library only): a siphond on a data directory the test owns
(so it survives restarts), subscribers added with siphonctl, REGISTER
messages, a small digest client (MD5 and SHA-256, RFC 7616 / RFC 8760: SIPp
3.6 only does MD5), and the bindings of a 200 (OK)."""

import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import siphon_test as st

DOMAIN = "example.com"


# ---------------------------------------------------------------- server

def add_user(bin_dir, data_dir, aor, password):
    """siphonctl user add, the password as one line of stdin."""
    p = subprocess.run([os.path.join(bin_dir, "siphonctl"), "--data-dir", data_dir, "user", "add",
                        aor], input=(password + "\n").encode(), capture_output=True, timeout=20)
    assert p.returncode == 0, "siphonctl user add %s: exit %d: %s" % (
        aor, p.returncode, p.stderr.decode("utf-8", "replace"))


class RegSiphond(st.Siphond):
    """st.Siphond, but on data_dir (kept by stop(): the caller removes it),
    serving DOMAIN, with users {name: password} added before the start."""

    def __init__(self, bin_dir, data_dir, config=None, extra=(), users=None, domain=DOMAIN):
        super().__init__(bin_dir, config=config,
                         extra=(["--domain", domain] if domain else []) + list(extra))
        self.bin_dir = os.path.abspath(bin_dir)
        self.bin = os.path.join(self.bin_dir, "siphond")  # the server runs in its temp dir
        self.data_dir = data_dir
        self.users = dict(users or {})
        self.domain = domain

    def start(self, attempts=5):
        os.makedirs(self.data_dir, exist_ok=True)
        for name, pw in self.users.items():
            add_user(self.bin_dir, self.data_dir, "%s@%s" % (name, self.domain), pw)
        self.users = {}  # added once: a restart keeps them
        self.tmp = tempfile.mkdtemp(prefix="siphond-reg-")
        last = ""
        for _ in range(attempts):
            self.port = st.free_port(self.host)
            cmd = [self.bin, "--data-dir", self.data_dir]
            if self.config is not None:
                path = os.path.join(self.tmp, "siphon.conf")
                with open(path, "w") as f:
                    f.write(self.config.replace("{port}", str(self.port)))
                cmd += ["-f", path]
            for spec in self.listen:
                cmd += ["--listen", spec.replace("{port}", str(self.port))]
            cmd += self.extra
            self.stderr_lines = []
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         cwd=self.tmp)
            st._live_procs.add(self.proc)
            threading.Thread(target=self._reader, args=(self.proc,), daemon=True).start()
            if self.wait_log("listening on", 20):
                return
            self._kill()
            last = self.stderr_text()
            if "Address already in use" not in last:
                break
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None
        raise RuntimeError("siphond did not start:\n" + last)

    def restart(self, timeout=10):
        """SIGTERM (clean exit asserted), then a new siphond on the same data
        directory and a new port."""
        self.stop(timeout=timeout)
        self.start()

    def sigkill(self):
        """kill -9: no clean exit, nothing flushed."""
        self.proc.kill()
        self.reap()

    def reap(self):
        """After a kill: wait for the process, drop its temp dir (not data_dir)."""
        self.proc.wait(10)
        st._live_procs.discard(self.proc)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


# ---------------------------------------------------------------- messages

def new_call_id():
    return "%016x@regtest" % random.getrandbits(64)


def register_msg(call_id, cseq, user="alice", domain=DOMAIN, contacts=(), expires=None,
                 transport="UDP", local_port=0, from_user=None, to=None, ruri=None, auth=None,
                 extra=(), branch=None, from_tag=None):
    """A REGISTER (RFC 3261 §10.2): one Contact header per item of contacts
    (each a whole value), Expires when not None. Returns (bytes, branch)."""
    branch = branch or "z9hG4bK-%016x" % random.getrandbits(64)
    lines = ["REGISTER %s SIP/2.0" % (ruri or "sip:" + domain),
             "Via: SIP/2.0/%s 127.0.0.1:%d;branch=%s;rport" % (transport, local_port, branch),
             "Max-Forwards: 70",
             "From: <sip:%s@%s>;tag=%s" % (from_user or user, domain,
                                          from_tag or "%08x" % random.getrandbits(32)),
             "To: %s" % (to or "<sip:%s@%s>" % (user, domain)),
             "Call-ID: %s" % call_id,
             "CSeq: %d REGISTER" % cseq]
    lines += ["Contact: %s" % c for c in contacts]
    if expires is not None:
        lines.append("Expires: %s" % expires)
    if auth:
        lines.append("Authorization: %s" % auth)
    lines += list(extra)
    lines.append("User-Agent: regtest")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), branch


def status(resp):
    return st.parse_status(resp)


def branch_of(resp):
    vias = st.header(resp, "Via", "v")
    m = re.search(r";\s*branch=([^;,\s]+)", vias[0]) if vias else None
    return m.group(1) if m else None


_PARAM = re.compile(r'([\w.!%*+`\'~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)')


def challenges(resp, name="WWW-Authenticate"):
    """[(raw value, {param: unquoted value})] of each challenge header."""
    out = []
    for v in st.header(resp, name):
        scheme, _, rest = v.partition(" ")
        assert scheme == "Digest", v
        params = {k.lower(): (val[1:-1] if val.startswith('"') else val)
                  for k, val in _PARAM.findall(rest)}
        out.append((v, params))
    return out


def digest_response(alg, user, realm, password, method, uri, nonce, nc, cnonce, qop="auth"):
    """request-digest (RFC 7616 §3.4.1) in lower-case hex."""
    h = hashlib.sha256 if alg.upper() == "SHA-256" else hashlib.md5

    def hx(s):
        return h(s.encode()).hexdigest()

    ha1 = hx("%s:%s:%s" % (user, realm, password))
    ha2 = hx("%s:%s" % (method, uri))
    return hx("%s:%s:%08x:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))


def authorization(chal, user, password, uri, nc, alg=None, cnonce=None, method="REGISTER"):
    alg = alg or chal.get("algorithm", "MD5")
    cnonce = cnonce or "%012x" % random.getrandbits(48)
    resp = digest_response(alg, user, chal["realm"], password, method, uri, chal["nonce"], nc,
                           cnonce)
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, cnonce="%s", qop=auth, nc=%08x' % (
                user, chal["realm"], chal["nonce"], uri, resp, alg, cnonce, nc))


def bindings(resp):
    """[(contact URI, {param: value})] of the Contact headers of resp, in order."""
    out = []
    for v in st.header(resp, "Contact", "m"):
        for item in re.findall(r'(?:[^,"<]|"[^"]*"|<[^>]*>)+', v):
            item = item.strip()
            m = re.match(r"^(?:[^<]*)<([^>]*)>(.*)$", item)
            uri, rest = (m.group(1), m.group(2)) if m else (item.split(";", 1)[0],
                                                              ";" + item.split(";", 1)[1]
                                                              if ";" in item else "")
            params = {}
            for p in rest.split(";"):
                p = p.strip()
                if p:
                    k, _, val = p.partition("=")
                    params[k.lower()] = val
            out.append((uri, params))
    return out


def expires_of(resp):
    """{contact URI: expires int} of a 200."""
    return {u: int(p["expires"]) for u, p in bindings(resp)}


# ---------------------------------------------------------------- client

def frame_one(buf):
    """(first message of a stream buffer or None, the rest)."""
    buf = buf.lstrip(b"\r\n")
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    m = re.search(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)", buf[:end + 4], re.I)
    total = end + 4 + (int(m.group(1)) if m else 0)
    if len(buf) < total:
        return None, buf
    return buf[:total], buf[total:]


class UA:
    """One registering UA: a socket (UDP or TCP), a Call-ID, a CSeq, and the
    credentials; answers 401 challenges with the algorithm of its choice."""

    def __init__(self, port, user="alice", password=None, domain=DOMAIN, tcp=False, alg="SHA-256",
                 auth_user=None):
        self.port = port
        self.user = user
        self.auth_user = auth_user or user
        self.password = password
        self.domain = domain
        self.tcp = tcp
        self.alg = alg
        self.call_id = new_call_id()
        self.cseq = 0
        self.from_tag = "%08x" % random.getrandbits(32)
        self.chal = None
        self.nc = 0
        if tcp:
            self.sock = st.tcp_connect(port)
            self.buf = b""
        else:
            self.sock = st.udp_socket()
        self.local_port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def contact(self, tag="", params=""):
        """A Contact value naming this UA ("<sip:user-tag@127.0.0.1:port>params")."""
        return "<%s>%s" % (self.contact_uri(tag), params)

    def contact_uri(self, tag=""):
        return "sip:%s%s@127.0.0.1:%d%s" % (self.user, ("-" + tag) if tag else "",
                                             self.local_port, ";transport=tcp" if self.tcp else "")

    def exchange(self, data, branch, timeout=5.0):
        """Send data; the response whose Via branch is branch (assert one)."""
        end = time.monotonic() + timeout
        if self.tcp:
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, ("127.0.0.1", self.port))
        while True:
            left = end - time.monotonic()
            assert left > 0, "no response to:\n%s" % data.decode("utf-8", "replace")
            if self.tcp:
                resp, self.buf = frame_one(self.buf)
                if resp is None:
                    self.sock.settimeout(left)
                    try:
                        chunk = self.sock.recv(65536)
                    except socket.timeout:
                        continue
                    assert chunk, "connection closed"
                    self.buf += chunk
                    continue
            else:
                self.sock.settimeout(left)
                try:
                    resp = self.sock.recv(65535)
                except socket.timeout:
                    continue
            if branch_of(resp) == branch:
                return resp

    def send(self, cseq=None, auth=None, **kw):
        """One REGISTER (no automatic challenge answer): the response."""
        self.cseq = self.cseq + 1 if cseq is None else cseq
        kw.setdefault("user", self.user)
        kw.setdefault("domain", self.domain)
        msg, br = register_msg(self.call_id, self.cseq, transport="TCP" if self.tcp else "UDP",
                               local_port=self.local_port, auth=auth, from_tag=self.from_tag,
                               **kw)
        return self.exchange(msg, br)

    def pick(self, resp):
        """The challenge of resp for self.alg (it must be offered)."""
        ch = challenges(resp)
        for _, p in ch:
            if p.get("algorithm", "MD5").upper() == self.alg.upper():
                return p
        raise AssertionError("no %s challenge in:\n%s" % (self.alg, resp.decode()))

    def authz(self, nc=None, password=None, uri=None, chal=None):
        """Authorization for the kept challenge with the next nc (or nc)."""
        if nc is None:
            self.nc += 1
            nc = self.nc
        chal = chal or self.chal
        return authorization(chal, self.auth_user, self.password if password is None else password,
                             uri or "sip:" + self.domain, nc, alg=self.alg)

    def register(self, password=None, **kw):
        """REGISTER; a 401 is answered once with fresh credentials. The final response."""
        resp = self.send(**kw)
        if status(resp)[0] == 401 and self.password is not None:
            self.chal = self.pick(resp)
            self.nc = 0
            resp = self.send(auth=self.authz(password=password), **kw)
        return resp

    def fetch(self):
        """REGISTER without Contact (§10.2.3): the 200's bindings as {URI: expires}."""
        resp = self.register()
        assert status(resp)[0] == 200, resp.decode()
        return expires_of(resp)
