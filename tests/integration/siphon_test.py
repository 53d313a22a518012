"""Shared helpers for Siphon integration tests (Python 3 standard library only).

A test script does:

    import siphon_test as st
    args = st.setup()                 # parses --bin-dir/--corpus, enters a private netns
    t = st.Runner()
    with st.Siphond(args.bin_dir) as srv:
        t.run("options over udp", test_fn, srv)
    sys.exit(t.finish())

Every network test runs inside a private network namespace (re-exec under
`unshare --net`), so messages that name foreign hosts (192.0.2.x, example.com)
can never leave the machine. Everything has a bounded time.
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

NETNS_ENV = "SIPHON_TEST_NETNS"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                   "WARNING: ThreadSanitizer")
# A whole script must never run longer than this (ctest's own limit is 300 s).
SCRIPT_DEADLINE = 280


def parse_args(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", required=True, help="CMake build directory")
    p.add_argument("--corpus", default=None, help="path to shared/corpus")
    return p.parse_args(argv)


def enter_netns():
    """Re-exec this script in a private network namespace unless already in one."""
    if os.environ.get(NETNS_ENV) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
        return
    unshare = shutil.which("unshare")
    if not unshare:
        sys.exit("FATAL: unshare(1) not found: cannot isolate the network")
    cmd = [unshare, "--net"]
    if os.geteuid() != 0:
        cmd = [unshare, "--map-root-user", "--net"]
    env = dict(os.environ)
    env[NETNS_ENV] = "1"
    cmd += ["--", sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    sys.stdout.flush()
    try:
        rc = subprocess.run(cmd, env=env, timeout=SCRIPT_DEADLINE + 10).returncode
    except subprocess.TimeoutExpired:
        print("FATAL: test script exceeded its deadline")
        rc = 1
    sys.exit(rc)


def setup():
    """Parse the arguments, enter the netns, arm a global watchdog."""
    args = parse_args()
    enter_netns()
    signal.signal(signal.SIGALRM, _watchdog)
    signal.alarm(SCRIPT_DEADLINE)
    return args


def _watchdog(signo, frame):
    print("FATAL: watchdog: test script hung; aborting", flush=True)
    for p in list(_live_procs):
        try:
            p.kill()
        except OSError:
            pass
    os._exit(3)


_live_procs = set()


# ---------------------------------------------------------------- ports

def free_port(host="127.0.0.1"):
    """A port number that is free for both UDP and TCP on host right now."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        port = random.randint(20000, 60000)
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as t, \
                    socket.socket(fam, socket.SOCK_DGRAM) as u:
                t.bind((host, port))
                u.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


# ---------------------------------------------------------------- server

class Siphond:
    """build/siphond in the foreground on fresh ports, in a temp data dir.

    listen: list of "proto:host:{port}" templates ({port} filled with a free
    port, the same for every entry); config: INI text written to a file and
    passed with -f ("{port}" is substituted there too). If listen is None and
    config names no listen, the server gets udp+tcp on 127.0.0.1:{port}.
    """

    def __init__(self, bin_dir, listen=None, config=None, extra=(), host="127.0.0.1",
                 use_cli_listen=True):
        self.bin = os.path.join(bin_dir, "siphond")
        self.listen = listen if listen is not None else [
            "udp:%s:{port}" % host, "tcp:%s:{port}" % host]
        self.config = config
        self.extra = list(extra)
        self.host = host
        self.use_cli_listen = use_cli_listen
        self.tmp = None
        self.proc = None
        self.port = None
        self.stderr_lines = []
        self._lock = threading.Lock()

    # -- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)
        return False

    def start(self, attempts=5):
        self.tmp = tempfile.mkdtemp(prefix="siphond-test-")
        last = ""
        for _ in range(attempts):
            self.port = free_port(self.host)
            cmd = [self.bin, "--data-dir", os.path.join(self.tmp, "data")]
            if self.config is not None:
                path = os.path.join(self.tmp, "siphon.conf")
                with open(path, "w") as f:
                    f.write(self.config.replace("{port}", str(self.port)))
                cmd += ["-f", path]
            if self.use_cli_listen:
                for spec in self.listen:
                    cmd += ["--listen", spec.replace("{port}", str(self.port))]
            cmd += self.extra
            self.stderr_lines = []
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         cwd=self.tmp)
            _live_procs.add(self.proc)
            threading.Thread(target=self._reader, args=(self.proc,), daemon=True).start()
            if self.wait_log("listening on", 10):
                return
            self._kill()
            last = self.stderr_text()
            if "Address already in use" not in last:
                break
        raise RuntimeError("siphond did not start:\n" + last)

    def _reader(self, proc):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.stderr_lines.append(line)

    def stderr_text(self):
        with self._lock:
            return "\n".join(self.stderr_lines)

    def wait_log(self, needle, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.stderr_text():
                return True
            if self.proc.poll() is not None:
                time.sleep(0.1)  # let the reader drain
                return needle in self.stderr_text()
            time.sleep(0.02)
        return False

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        _live_procs.discard(self.proc)

    def stop(self, check=True, timeout=5):
        """SIGTERM; assert exit 0 within timeout and no sanitizer report."""
        problems = []
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    rc = self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    problems.append("did not exit within %ss of SIGTERM" % timeout)
                    self._kill()
                    rc = None
            else:
                rc = self.proc.returncode if self.proc else None
                problems.append("had already exited (rc=%s) before SIGTERM" % rc)
            time.sleep(0.05)
            if rc not in (0, None):
                problems.append("exit code %s" % rc)
            text = self.stderr_text()
            for mark in SANITIZER_MARKS:
                if mark in text:
                    problems.append("sanitizer report (%s)" % mark)
            if "stopped" not in text:
                problems.append("no stop line logged")
        finally:
            _live_procs.discard(self.proc)
            if self.tmp:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None
        if problems and check:
            raise AssertionError("siphond: " + "; ".join(problems) +
                                 "\n--- stderr tail ---\n" + "\n".join(self.stderr_lines[-30:]))
        return problems

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def run_siphond(bin_dir, args, timeout=10, cwd=None):
    """Run siphond to completion (e.g. -c); returns (rc, stdout, stderr)."""
    p = subprocess.run([os.path.join(bin_dir, "siphond")] + list(args), capture_output=True,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- messages

def options(port, via_port, transport="UDP", host="127.0.0.1", branch=None, extra="",
            rport=True, ruri=None, max_forwards=70):
    """An OPTIONS request (RFC 3261 §11) with a Via sent-by of host:via_port."""
    branch = branch or "z9hG4bK-%08x" % random.getrandbits(32)
    ruri = ruri or "sip:%s:%d" % (host if ":" not in host else "[%s]" % host, port)
    vh = host if ":" not in host else "[%s]" % host
    return ("OPTIONS %s SIP/2.0\r\n"
            "Via: SIP/2.0/%s %s:%d;branch=%s%s\r\n"
            "Max-Forwards: %d\r\n"
            "From: <sip:test@%s>;tag=%08x\r\n"
            "To: <sip:%s>\r\n"
            "Call-ID: %08x@test\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n" % (
                ruri, transport, vh, via_port, branch, ";rport" if rport else "",
                max_forwards, vh, random.getrandbits(32), ruri[4:], random.getrandbits(32),
                extra)).encode()


def parse_status(resp):
    """(code, reason) of a response's status line, or (None, None)."""
    if not resp:
        return None, None
    line = resp.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)$", line)
    if not m:
        return None, None
    return int(m.group(1)), m.group(2)


def header(resp, name, compact=None):
    """Values of every header called name (case-insensitive) in resp."""
    head = resp.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    names = {name.lower()} | ({compact.lower()} if compact else set())
    out = []
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() in names:
                out.append(v.strip())
    return out


def header_values(msg, name, compact=None):
    """Values of every header called name, comma-separated lists split (for
    headers whose URIs have no comma: Via, Route, Record-Route)."""
    out = []
    for v in header(msg, name, compact):
        out += [x.strip() for x in v.split(",")]
    return out


def response_to(req, code, reason, to_tag, contact=None):
    """A response to req: its Vias and Record-Routes, From, To (with to_tag
    unless it has one), Call-ID and CSeq, no body."""
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    lines += ["Via: %s" % v for v in header_values(req, "Via", "v")]
    lines += ["Record-Route: %s" % r for r in header_values(req, "Record-Route")]
    lines.append("From: %s" % header(req, "From", "f")[0])
    to = header(req, "To", "t")[0]
    lines.append("To: %s" % (to if ";tag=" in to or not to_tag else "%s;tag=%s" % (to, to_tag)))
    lines.append("Call-ID: %s" % header(req, "Call-ID", "i")[0])
    lines.append("CSeq: %s" % header(req, "CSeq")[0])
    if contact:
        lines.append("Contact: %s" % contact)
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def split_responses(data):
    """Frame a byte stream into messages by Content-Length; returns (msgs, rest)."""
    msgs = []
    while True:
        while data.startswith(b"\r\n"):
            data = data[2:]
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return msgs, data
        head = data[:end + 4]
        m = re.search(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)", head, re.I)
        n = int(m.group(1)) if m else 0
        if len(data) < end + 4 + n:
            return msgs, data
        msgs.append(data[:end + 4 + n])
        data = data[end + 4 + n:]


# ---------------------------------------------------------------- UDP

def udp_socket(src_port=0, host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    # no SO_REUSEADDR: with it, two sockets bound to port 0 can share an
    # ephemeral port and one never sees its replies
    s.bind((host, src_port))
    return s


def udp_exchange(data, port, src_port=0, host="127.0.0.1", timeout=2.0, sock=None):
    """Send one datagram from host:src_port to host:port; the first reply or None."""
    own = sock is None
    s = sock or udp_socket(src_port, host)
    try:
        s.settimeout(timeout)
        s.sendto(data, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        if own:
            s.close()


def final_response(srv, sock, timeout=8.0):
    """The first final response on a UDP socket, and the status codes of
    the provisional ones before it: (bytes, [codes]). Fails with siphond's
    log tail when none comes within timeout."""
    prov = []
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        try:
            assert left > 0
            sock.settimeout(left)
            data = sock.recv(65535)
        except (AssertionError, socket.timeout):
            raise AssertionError("no final response within %.1f s (had %r); siphond:\n%s" % (
                timeout, prov, srv.stderr_text()[-2000:])) from None
        code = parse_status(data)[0]
        if code and code >= 200:
            return data, prov
        if code:
            prov.append(code)


def udp_source_port(sock):
    return sock.getsockname()[1]


# ---------------------------------------------------------------- TCP

def tcp_connect(port, host="127.0.0.1", timeout=3.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


class Stream:
    """SIP messages framed off one stream socket (TCP, or TLS wrapped),
    what follows a message kept for the next read."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def next(self, timeout=5.0):
        end = time.monotonic() + timeout
        while True:
            msgs, rest = split_responses(self.buf)
            if msgs:
                self.buf = b"".join(msgs[1:]) + rest
                return msgs[0]
            left = end - time.monotonic()
            assert left > 0, "no message within %.1f s" % timeout
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            assert chunk, "the connection closed"
            self.buf += chunk

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def send_chunks(sock, data, cuts=None, pause=0.0):
    """Send data split at the given offsets (or in one piece)."""
    prev = 0
    for c in sorted(set(cuts or [])) + [len(data)]:
        if c <= prev or c > len(data):
            continue
        sock.sendall(data[prev:c])
        prev = c
        if pause:
            time.sleep(pause)


def recv_messages(sock, count, timeout=3.0):
    """Read until count messages were framed, the peer closed, or timeout.
    Returns (msgs, closed)."""
    buf = b""
    end = time.monotonic() + timeout
    msgs = []
    while True:
        msgs, _ = split_responses(buf)
        if len(msgs) >= count:
            return msgs, False
        left = end - time.monotonic()
        if left <= 0:
            return msgs, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return msgs, False
        except (ConnectionResetError, BrokenPipeError):
            return split_responses(buf)[0], True
        if not chunk:
            return split_responses(buf)[0], True
        buf += chunk


def recv_raw(sock, timeout=1.0):
    """Everything received within timeout (or until close): (bytes, closed)."""
    buf = b""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return buf, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return buf, False
        except (ConnectionResetError, BrokenPipeError):
            return buf, True
        if not chunk:
            return buf, True
        buf += chunk


def wait_closed(sock, timeout):
    """True if the peer closes the connection within timeout."""
    return recv_raw(sock, timeout)[1]


def tcp_exchange(data, port, host="127.0.0.1", timeout=2.0):
    """One connection: send data, return (first response or None, closed)."""
    s = tcp_connect(port, host)
    try:
        s.sendall(data)
        msgs, closed = recv_messages(s, 1, timeout)
        return (msgs[0] if msgs else None), closed
    finally:
        s.close()


# ---------------------------------------------------------------- the siphon UA

def run_siphon(bin_dir, argv, timeout=30):
    """Run build/siphon to completion: (rc, stdout, stderr, seconds)."""
    cmd = [os.path.join(bin_dir, "siphon")] + list(argv)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _live_procs.add(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=5)
        raise AssertionError("siphon %s did not finish in %ss" % (" ".join(argv), timeout))
    finally:
        _live_procs.discard(p)
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, "siphon: sanitizer report:\n" + err[-3000:]
    return p.returncode, out, err, time.monotonic() - t0


def expect_exit(res, rc, needle):
    code, out, err, _ = res
    assert code == rc, "exit %s, expected %s\nstdout: %s\nstderr: %s" % (code, rc, out, err[-3000:])
    assert needle in out, "%r not in stdout: %s\nstderr: %s" % (needle, out, err[-3000:])


# ---------------------------------------------------------------- runner

class Runner:
    """Runs named test functions, counts results, prints the summary."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def run(self, name, fn, *args, **kw):
        t0 = time.monotonic()
        try:
            fn(*args, **kw)
        except Exception as e:  # noqa: BLE001 - a test failure of any kind
            self.failed += 1
            self.failures.append(name)
            print("FAIL %s (%.2fs): %s" % (name, time.monotonic() - t0, e), flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
            return False
        self.passed += 1
        print("ok   %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)
        return True

    def check(self, name, cond, detail=""):
        """Record a single assertion as a test of its own."""
        if cond:
            self.passed += 1
            print("ok   %s" % name, flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print("FAIL %s: %s" % (name, detail), flush=True)
        return cond

    def finish(self):
        if self.failures:
            print("failed: " + ", ".join(self.failures))
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0
