"""Helpers for the siphon user agent tests (test_ua_*.py): run build/siphon
with --json, follow its events, WAV files and audio correlation (Python 3
standard library only)."""

import json
import math
import os
import signal
import struct
import subprocess
import threading
import time
import wave

import siphon_test as st

LOCAL = "127.0.0.1"


class Siphon:
    """One build/siphon process with --json: its events (one JSON object
    per stdout line) collected by a thread, stderr kept."""

    def __init__(self, bin_dir, args, name="siphon", stdin=False):
        self.name = name
        self.cmd = [os.path.join(bin_dir, "siphon"), "--json"] + list(args)
        self.events = []
        self.err = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        st._live_procs.add(self.proc)
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._errs, daemon=True).start()

    def _out(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line.decode("utf-8", "replace"))
            except ValueError:
                continue
            with self.cond:
                self.events.append(ev)
                self.cond.notify_all()

    def _errs(self):
        for line in self.proc.stderr:
            with self.cond:
                self.err.append(line.decode("utf-8", "replace"))

    def type(self, line):
        """A line on its stdin (--interactive)."""
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def stderr(self):
        with self.cond:
            return "".join(self.err)

    def wait_event(self, name, timeout=10, pred=None):
        """The first event called name (that pred accepts), or None."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev in self.events:
                    if ev.get("event") == name and (pred is None or pred(ev)):
                        return ev
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def must_event(self, name, timeout=10, pred=None):
        ev = self.wait_event(name, timeout, pred)
        assert ev is not None, "%s: no %s event in %ss; events %s\nstderr:\n%s" % (
            self.name, name, timeout, [e.get("event") for e in self.events],
            self.stderr()[-3000:])
        return ev

    def names(self, name):
        with self.cond:
            return [e for e in self.events if e.get("event") == name]

    def signal(self, signo=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(signo)

    def wait(self, timeout=20):
        """The exit status; kills it (and fails) when it does not exit in time.
        A sanitizer report fails too."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit within %ss:\n%s" % (
                self.name, timeout, self.stderr()[-3000:]))
        time.sleep(0.05)  # let the reader threads drain
        st._live_procs.discard(self.proc)
        text = self.stderr()
        for mark in st.SANITIZER_MARKS:
            assert mark not in text, "%s: sanitizer report:\n%s" % (self.name, text[-5000:])
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        st._live_procs.discard(self.proc)


def write_password(path, pw):
    with open(path, "w") as f:
        f.write(pw + "\n")
    return path


# ---------------------------------------------------------------- audio

def write_wav(path, samples, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<%dh" % len(samples), *samples))


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        data = w.readframes(w.getnframes())
    return list(struct.unpack("<%dh" % (len(data) // 2), data))


def chirp(seconds, f0, f1, rate=8000, amp=12000):
    """A linear chirp f0 -> f1 Hz: distinctive at every lag."""
    n = int(seconds * rate)
    out = []
    for i in range(n):
        t = i / rate
        f = f0 + (f1 - f0) * t / (2 * seconds)
        out.append(int(amp * math.sin(2 * math.pi * f * t)))
    return out


def noise(seconds, seed, rate=8000, amp=8000):
    """Pseudo-random audio (seeded): unlike a tone, no two stretches of it
    look alike, so a short probe finds its one true lag."""
    import random
    r = random.Random(seed)
    return [int(r.uniform(-amp, amp)) for _ in range(int(seconds * rate))]


def _corr(a, b):
    ea = math.sqrt(sum(x * x for x in a))
    eb = math.sqrt(sum(x * x for x in b))
    if not ea or not eb:
        return 0.0
    return sum(x * y for x, y in zip(a, b)) / (ea * eb)


def segment_correlation(sent, got, starts=(4000, 8000, 12000), probe=160, seg=400):
    """For each segment of sent (seg samples at each start), the normalized
    cross-correlation with got at the lag where it fits best (found with a
    short probe at every lag, then checked over the whole segment): the
    audio may arrive late and with gaps (DTMF, jitter), so each segment is
    placed on its own. Returns the smallest of them (1.0: identical)."""
    worst = 1.0
    for start in starts:
        if start + seg > len(sent):
            continue
        a = sent[start:start + probe]
        ea = math.sqrt(sum(x * x for x in a)) or 1.0
        best_lag, best = None, -1.0
        for lag in range(0, len(got) - seg):
            b = got[lag:lag + probe]
            eb = math.sqrt(sum(x * x for x in b))
            if not eb:
                continue
            c = sum(x * y for x, y in zip(a, b)) / (ea * eb)
            if c > best:
                best, best_lag = c, lag
        c = _corr(sent[start:start + seg], got[best_lag:best_lag + seg]) if best_lag is not None \
            else 0.0
        worst = min(worst, c)
    return worst
