#!/usr/bin/env python3
"""siphonctl user add|del|list against a temporary data directory: the
password from one line of stdin or from a no-echo terminal prompt (asked
twice), exit codes 0 / 1 (exists, not found) / 64 (usage, bad USER@DOMAIN),
and the password never reaching the database files."""

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import siphon_test as st

PASSWORD = "s3cret-Unlikely-Passw0rd"


class Ctl:
    def __init__(self, bin_dir, data_dir):
        self.exe = os.path.abspath(os.path.join(bin_dir, "siphonctl"))
        self.data_dir = data_dir

    def run(self, *args, stdin="", data_dir=True):
        cmd = [self.exe] + (["--data-dir", self.data_dir] if data_dir else []) + list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=20)
        for mark in st.SANITIZER_MARKS:
            assert mark not in p.stderr, "sanitizer report:\n" + p.stderr
        return p

    def db_bytes(self):
        data = b""
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(self.data_dir, "subscribers.db" + suffix)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data += f.read()
        return data


def expect(p, code, what):
    assert p.returncode == code, "%s: exit %d, wanted %d; stderr: %s" % (
        what, p.returncode, code, p.stderr.strip())


def test_add_list(c):
    p = c.run("user", "add", "alice@example.com", stdin=PASSWORD + "\n")
    expect(p, 0, "add")
    assert PASSWORD not in p.stdout + p.stderr, "password echoed"
    expect(c.run("user", "add", "bob@Example.COM", stdin="pw-bob"), 0, "add without newline")
    expect(c.run("user", "add", "carol@example.org", stdin="x\n"), 0, "add other domain")
    p = c.run("user", "list")
    expect(p, 0, "list")
    assert p.stdout.splitlines() == [
        "alice@example.com  algorithms: SHA-256 MD5",
        "bob@example.com  algorithms: SHA-256 MD5",
        "carol@example.org  algorithms: SHA-256 MD5",
    ], p.stdout
    p = c.run("user", "list", "example.org")
    expect(p, 0, "list domain")
    assert p.stdout.splitlines() == ["carol@example.org  algorithms: SHA-256 MD5"], p.stdout


def test_exists_replace(c):
    p = c.run("user", "add", "alice@example.com", stdin="other\n")
    expect(p, 1, "add again")
    assert "exists" in p.stderr, p.stderr
    expect(c.run("user", "add", "--replace", "alice@example.com", stdin="other\n"), 0,
           "add --replace")
    expect(c.run("--replace", "user", "add", "dave@example.com", stdin="d\n"), 0,
           "--replace creates")


def test_del(c):
    expect(c.run("user", "del", "dave@example.com"), 0, "del")
    p = c.run("user", "del", "dave@example.com")
    expect(p, 1, "del again")
    assert "not found" in p.stderr, p.stderr
    assert "dave@" not in c.run("user", "list").stdout


def test_password_refused(c):
    expect(c.run("user", "add", "erin@example.com", stdin=""), 1, "no password")
    expect(c.run("user", "add", "erin@example.com", stdin="\nsecond\n"), 1, "empty line")
    assert "erin@" not in c.run("user", "list").stdout


def test_usage(c):
    for args in ([], ["user"], ["user", "frob", "a@b.c"], ["user", "add"],
                 ["user", "add", "a@b.c", "extra"], ["user", "del"], ["group", "list"],
                 ["user", "del", "--replace", "a@example.com"], ["--bogus", "user", "list"],
                 ["user", "list", "a", "b"]):
        expect(c.run(*args, stdin="pw\n"), 64, "usage %r" % (args,))
    expect(c.run("--help"), 0, "--help")


def test_bad_aor(c):
    for aor in ("alice", "@example.com", "alice@", "al ice@example.com", "a@b@example.com",
                "alice@example.com:5060", "alice@exa\tmple.com", "alice@2001:db8::1",
                "alice@bad_host!"):
        p = c.run("user", "add", aor, stdin="pw\n")
        expect(p, 64, "add %r" % aor)
        expect(c.run("user", "del", aor), 64, "del %r" % aor)


def test_no_password_in_db(c):
    data = c.db_bytes()
    assert b"alice" in data, "the check cannot see the rows"
    for pw in (PASSWORD, "pw-bob", "other"):
        assert pw.encode() not in data, "password %r found in the database" % pw


def test_default_data_dir(c):
    """Without --data-dir the store is ./var/subscribers.db."""
    cwd = tempfile.mkdtemp(prefix="siphonctl-cwd-")
    try:
        p = subprocess.run([c.exe, "user", "add", "z@example.com"], input="zz\n", cwd=cwd,
                           capture_output=True, text=True, timeout=20)
        expect(p, 0, "add in ./var")
        assert os.path.exists(os.path.join(cwd, "var", "subscribers.db"))
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


def tty_add(c, aor, first, second):
    """Run user add on a pseudo-terminal, answering both prompts once shown."""
    master, slave = pty.openpty()
    p = subprocess.Popen([c.exe, "--data-dir", c.data_dir, "user", "add", aor], stdin=slave,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    err = b""
    try:
        for answer in (first, second):
            deadline = time.monotonic() + 10
            want = b"Password: " if answer is first else b"Retype password: "
            while want not in err:
                assert time.monotonic() < deadline, "no prompt: %r" % err
                r, _, _ = select.select([p.stderr], [], [], 0.5)
                if r:
                    chunk = os.read(p.stderr.fileno(), 4096)
                    assert chunk, "stderr closed: %r" % err
                    err += chunk
            time.sleep(0.05)  # the prompt precedes tcsetattr(TCSAFLUSH)
            os.write(master, answer.encode() + b"\n")
        out, rest = p.communicate(timeout=10)
        err += rest
        # what the terminal displayed: the typed passwords must not be there
        while select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child side is closed
                break
            if not chunk:
                break
            err += chunk
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return p.returncode, err.decode(errors="replace")


def test_tty(c):
    code, err = tty_add(c, "tty@example.com", "tty-pass", "tty-pass")
    assert code == 0, err
    assert "tty-pass" not in err, "password echoed: %r" % err
    code, err = tty_add(c, "tty2@example.com", "one", "two")
    assert code == 1 and "do not match" in err, (code, err)
    lines = c.run("user", "list", "example.com").stdout
    assert "tty@example.com" in lines and "tty2@" not in lines, lines


def main():
    args = st.parse_args()
    signal.alarm(st.SCRIPT_DEADLINE)
    t = st.Runner()
    data_dir = tempfile.mkdtemp(prefix="siphonctl-")
    c = Ctl(args.bin_dir, os.path.join(data_dir, "var"))  # created on first use
    try:
        t.run("add via stdin, list shows it (all, one domain)", test_add_list, c)
        t.run("add again -> 1, --replace -> 0", test_exists_replace, c)
        t.run("del -> 0, del again -> 1", test_del, c)
        t.run("no or empty password -> 1, nothing stored", test_password_refused, c)
        t.run("bad usage -> 64", test_usage, c)
        t.run("bad USER@DOMAIN -> 64", test_bad_aor, c)
        t.run("the passwords are not in the database files", test_no_password_in_db, c)
        t.run("default data dir ./var", test_default_data_dir, c)
        t.run("terminal: prompted twice without echo, mismatch -> 1", test_tty, c)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
