#!/usr/bin/env python3
"""The siphon user agent end to end: siphon -> siphond -> siphon over
loopback, both phones registered at siphond with digest credentials
(siphonctl users; siphond is registrar and stateful proxy and challenges
the caller's INVITE with 407).

- audio both ways: alice plays a WAV of seeded noise and records, bob
  (siphon listen --auto-answer) plays another and records; each recording
  correlates with what the other side played (normalized cross-correlation
  of segments placed at their best lag, after G.711: > 0.9, where unrelated
  audio gives ~0), RTP counted on both sides;
- DTMF: --dtmf 19#* arrives at bob as RFC 4733 events in order;
- hold and resume: --hold re-INVITEs with sendonly (bob answers recvonly),
  then sendrecv; both sides report the media direction;
- CANCEL before the answer: bob rings without answering, Ctrl-C at alice
  sends CANCEL: alice exits 7 (cancelled), bob reports the call cancelled;
- busy: bob --reject 486: alice exits 4;
- MESSAGE both ways (RFC 3428), printed by the listener as events;
- a wrong password: REGISTER fails with exit 6;
- --interactive: a direct call (no proxy) answered, DTMF sent, put on hold
  and hung up by commands typed on the callee's stdin."""

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

USERS = {"alice": "alice-Secret-1", "bob": "bob-Secret-2"}


class Env:
    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.root = tempfile.mkdtemp(prefix="siphon-ua-call-")
        self.srv = rt.RegSiphond(bin_dir, os.path.join(self.root, "data"), users=USERS,
                                 extra=["--workers", "1"])
        self.srv.listen = ["udp:127.0.0.1:{port}"]
        self.srv.start()
        self.proxy = "sip:127.0.0.1:%d" % self.srv.port
        self.pw = {u: ua.write_password(os.path.join(self.root, u + ".pw"), p)
                   for u, p in USERS.items()}

    def path(self, name):
        return os.path.join(self.root, name)

    def args(self, user, password=None):
        pw = self.pw[user]
        if password is not None:
            pw = ua.write_password(self.path(user + "-wrong.pw"), password)
        return ["--user", "sip:%s@%s" % (user, rt.DOMAIN), "--password-file", pw,
                "--proxy", self.proxy]

    def listen(self, user, extra, duration=20):
        p = ua.Siphon(self.bin_dir, self.args(user) + ["listen", "--duration", str(duration)] +
                      list(extra), name=user)
        p.must_event("registered", 10)
        return p

    def call(self, user, to, extra):
        return ua.Siphon(self.bin_dir, self.args(user) + ["call", "sip:%s@%s" % (to, rt.DOMAIN)] +
                         list(extra), name=user)

    def stop(self):
        self.srv.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def audio_both_ways(env):
    a_play, b_play = ua.noise(2.0, 1), ua.noise(2.0, 2)
    ua.write_wav(env.path("a.wav"), a_play)
    ua.write_wav(env.path("b.wav"), b_play)
    bob = env.listen("bob", ["--auto-answer", "--play", env.path("b.wav"), "--record",
                             env.path("bob-rec.wav")])
    alice = env.call("alice", "bob", ["--play", env.path("a.wav"), "--record",
                                      env.path("alice-rec.wav"), "--duration", "2.6",
                                      "--dtmf", "19#*"])
    rc = alice.wait(20)
    assert rc == 0, "alice exit %d:\n%s" % (rc, alice.stderr())
    alice.must_event("ringing", 0)
    alice.must_event("answered", 0)
    end = alice.must_event("ended", 0)
    assert end["reason"] == "local_bye" and end["rtp_sent"] > 100 and end["rtp_recv"] > 100, end
    bend = bob.must_event("ended", 5)
    assert bend["reason"] == "remote_bye" and bend["rtp_recv"] > 100, bend
    digits = "".join(e["digit"] for e in bob.names("dtmf"))
    assert digits == "19#*", "DTMF at bob: %r" % digits
    bob.signal(signal.SIGTERM)
    assert bob.wait(10) == 0, bob.stderr()
    bob.must_event("unregistered", 0)
    fwd = ua.segment_correlation(a_play, ua.read_wav(env.path("bob-rec.wav")))
    rev = ua.segment_correlation(b_play, ua.read_wav(env.path("alice-rec.wav")))
    other = ua.segment_correlation(a_play, ua.read_wav(env.path("alice-rec.wav")))
    print("     correlation alice->bob %.4f, bob->alice %.4f, unrelated %.4f" % (fwd, rev, other))
    assert fwd > 0.9 and rev > 0.9, (fwd, rev)
    assert other < 0.5, other


def hold_resume(env):
    bob = env.listen("bob", ["--auto-answer"])
    alice = env.call("alice", "bob", ["--duration", "2.5", "--hold", "0.5:0.8"])
    assert alice.wait(20) == 0, alice.stderr()
    dirs_a = [e["dir"] for e in alice.names("media")]
    assert dirs_a == ["sendonly", "sendrecv"], "alice: %s\n%s" % (dirs_a, alice.stderr())
    bob.must_event("ended", 5)
    dirs_b = [e["dir"] for e in bob.names("media")]
    assert dirs_b == ["recvonly", "sendrecv"], "bob: %s" % dirs_b
    bob.signal(signal.SIGTERM)
    assert bob.wait(10) == 0, bob.stderr()


def cancel_before_answer(env):
    bob = env.listen("bob", [])  # rings, never answers
    alice = env.call("alice", "bob", ["--duration", "5"])
    alice.must_event("ringing", 10)
    bob.must_event("incoming", 5)
    alice.signal(signal.SIGINT)
    rc = alice.wait(15)
    assert rc == 7, "alice exit %d (want 7 cancelled):\n%s" % (rc, alice.stderr())
    end = bob.must_event("ended", 5)
    assert end["reason"] == "cancelled" and end["status"] == 487, end
    assert not alice.names("answered")
    bob.signal(signal.SIGTERM)
    assert bob.wait(10) == 0, bob.stderr()


def busy(env):
    bob = env.listen("bob", ["--reject", "486"])
    alice = env.call("alice", "bob", ["--duration", "5"])
    rc = alice.wait(15)
    assert rc == 4, "alice exit %d (want 4 busy):\n%s" % (rc, alice.stderr())
    end = alice.must_event("ended", 0)
    assert end["status"] == 486, end
    bob.signal(signal.SIGTERM)
    assert bob.wait(10) == 0, bob.stderr()


def message_both_ways(env):
    bob = env.listen("bob", [])
    alice = env.listen("alice", [])
    for sender, receiver, text in (("alice", bob, "hello bob, \"quoted\" and ü"),
                                   ("bob", alice, "hi alice")):
        p = ua.Siphon(env.bin_dir, env.args(sender) + ["message", "sip:%s@%s" % (
            receiver.name, rt.DOMAIN), text], name=sender + "-msg")
        assert p.wait(15) == 0, p.stderr()
        assert p.must_event("response", 0)["status"] == 200
        ev = receiver.must_event("message", 5)
        assert ev["text"] == text and ev["from"] == "sip:%s@%s" % (sender, rt.DOMAIN), ev
    for p in (alice, bob):
        p.signal(signal.SIGTERM)
        assert p.wait(10) == 0, p.stderr()


def wrong_password(env):
    p = ua.Siphon(env.bin_dir, env.args("alice", password="nope") + ["register",
                                                                     "--duration", "5"])
    rc = p.wait(15)
    assert rc == 6, "exit %d (want 6 auth failed):\n%s" % (rc, p.stderr())


def forked(env):
    """Two phones registered as bob, both answering at once: siphond forks
    the INVITE to both (parallel, RFC 3261 §16.6), alice keeps the first
    answer and ends every other one (ACK + BYE, or the proxy's CANCEL):
    her call works, and both of bob's phones end their call."""
    b1 = env.listen("bob", ["--auto-answer"])
    b2 = env.listen("bob", ["--auto-answer"])
    alice = env.call("alice", "bob", ["--duration", "1"])
    assert alice.wait(20) == 0, alice.stderr()
    for b in (b1, b2):
        if b.wait_event("incoming", 0):
            b.must_event("ended", 5)
        b.signal(signal.SIGTERM)
        assert b.wait(10) == 0, b.stderr()
    assert b1.names("incoming") and b2.names("incoming"), "siphond did not fork"
    print("     bob's phones: %s" % [[(e["reason"], e["status"]) for e in b.names("ended")]
                                      for b in (b1, b2)])


def interactive(env):
    """Keyboard commands, and a direct call (no proxy, no registration):
    bob rings until 'a' is typed, then '7#' sends DTMF to alice, 'hold'
    re-INVITEs, 'h' hangs up."""
    port = st.free_port()
    bob = ua.Siphon(env.bin_dir, ["--listen", "127.0.0.1:%d" % port, "listen", "--interactive",
                                  "--duration", "20"], name="bob", stdin=True)
    bob.must_event("listening", 10)
    alice = ua.Siphon(env.bin_dir, ["call", "sip:bob@127.0.0.1:%d" % port], name="alice")
    alice.must_event("ringing", 10)
    time.sleep(0.3)
    assert not alice.names("answered")
    bob.type("a")
    alice.must_event("answered", 5)
    bob.type("7#")
    alice.must_event("dtmf", 5, lambda e: e["digit"] == "#")
    assert "".join(e["digit"] for e in alice.names("dtmf")) == "7#"
    bob.type("hold")
    alice.must_event("media", 5, lambda e: e["dir"] == "recvonly")
    bob.type("h")
    assert alice.wait(10) == 0, alice.stderr()
    assert alice.must_event("ended", 0)["reason"] == "remote_bye"
    bob.type("q")
    assert bob.wait(10) == 0, bob.stderr()


def main():
    args = st.setup()
    t = st.Runner()
    env = Env(args.bin_dir)
    try:
        t.run("audio both ways, DTMF, through siphond with digest auth", audio_both_ways, env)
        t.run("hold and resume (re-INVITE sendonly / sendrecv)", hold_resume, env)
        t.run("CANCEL before the answer (Ctrl-C): exit 7", cancel_before_answer, env)
        t.run("busy (--reject 486): exit 4", busy, env)
        t.run("MESSAGE both ways", message_both_ways, env)
        t.run("wrong password: REGISTER fails, exit 6", wrong_password, env)
        t.run("forking: two phones as bob answer at once", forked, env)
        t.run("--interactive: answer, DTMF, hold, hang up from the keyboard", interactive, env)
    finally:
        t.run("siphond stops cleanly", env.stop)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
