#!/usr/bin/env python3
"""Interop of siphon with baresip (Debian's baresip-core) through siphond:
both phones register at siphond with digest credentials (MD5 only: see
test_baresip.py for why), and

- baresip (alice) calls siphon (bob, `siphon listen --auto-answer`): the
  call is established on both sides through siphond (Record-Route), RTP
  flows to siphon, baresip hangs up, siphon reports the far end's BYE;
- siphon (alice, `siphon call`) calls baresip (bob, answermode=auto): the
  digest challenge to the INVITE (407) is answered, the call is established,
  baresip receives siphon's RTP, siphon hangs up after its --duration with a BYE along
  the route set, baresip closes the call; siphon exits 0.

baresip runs headless (aubridge audio, ctrl_tcp), as test_baresip.py does."""

import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import regtest as rt  # noqa: E402
import siphon_test as st  # noqa: E402
import test_baresip as tb  # noqa: E402
import uatest as ua  # noqa: E402


RTP_IN = "stream: incoming rtp for 'audio' established"


class Env:
    def __init__(self, bin_dir):
        self.bin_dir = bin_dir
        self.root = tempfile.mkdtemp(prefix="siphon-ua-baresip-")
        self.srv = rt.RegSiphond(bin_dir, os.path.join(self.root, "data"),
                                 config=tb.SIPHOND_CONF, users=tb.USERS, extra=["--workers", "1"])
        self.srv.listen = ["udp:127.0.0.1:{port}"]
        self.srv.start()
        self.proxy = "sip:127.0.0.1:%d" % self.srv.port
        self.phones = []

    def siphon_args(self, user):
        pw = ua.write_password(os.path.join(self.root, user + ".pw"), tb.USERS[user])
        return ["--user", "sip:%s@%s" % (user, rt.DOMAIN), "--password-file", pw,
                "--proxy", self.proxy]

    def baresip(self, user, answer_auto):
        b = tb.Baresip(self.root, user, self.srv.port, outbound=True, answer_auto=answer_auto)
        self.phones.append(b)
        b.start()
        srvaddr = "127.0.0.1:%d" % self.srv.port
        tb.find(b, lambda p, s, d, m: s == srvaddr and tb.is_resp(200, "REGISTER")(m),
                "200 to REGISTER from siphond", 10)
        return b

    def stop(self):
        for b in self.phones:
            b.kill()
        self.srv.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def baresip_calls_siphon(env):
    bob = ua.Siphon(env.bin_dir, env.siphon_args("bob") + ["listen", "--auto-answer",
                                                            "--duration", "25"], name="bob")
    bob.must_event("registered", 10)
    alice = env.baresip("alice", answer_auto=False)
    alice.command("dial", "sip:bob@%s" % rt.DOMAIN)
    ev = alice.wait_event(("CALL_ESTABLISHED", "CALL_CLOSED"), 10)
    assert ev and ev["type"] == "CALL_ESTABLISHED", "baresip: %s %s\n%s" % (
        ev, alice.event_types(), bob.stderr())
    bob.must_event("answered", 5)
    time.sleep(1.0)
    alice.command("hangup")
    assert alice.wait_event("CALL_CLOSED", 5), alice.event_types()
    end = bob.must_event("ended", 5)
    assert end["reason"] == "remote_bye", end
    # baresip's aubridge source is fed by nobody, so it sends (almost) no
    # RTP; what it says about ours is the proof that audio reached it
    assert end["rtp_sent"] > 10, end
    assert RTP_IN in alice.output(), alice.output()[-3000:]
    bob.signal(signal.SIGTERM)
    assert bob.wait(10) == 0, bob.stderr()
    bob.must_event("unregistered", 0)


def siphon_calls_baresip(env):
    env.baresip("bob", answer_auto=True)
    bob = env.phones[-1]
    alice = ua.Siphon(env.bin_dir, env.siphon_args("alice") + [
        "call", "sip:bob@%s" % rt.DOMAIN, "--duration", "1.5"], name="alice")
    rc = alice.wait(20)
    assert rc == 0, "siphon exit %d:\n%s\nbaresip:\n%s" % (rc, alice.stderr(),
                                                           tb.show(bob.trace()))
    alice.must_event("answered", 0)
    end = alice.must_event("ended", 0)
    assert end["reason"] == "local_bye" and end["rtp_sent"] > 30, end
    assert RTP_IN in bob.output(), bob.output()[-3000:]
    ev = bob.wait_event("CALL_ESTABLISHED", 2)
    assert ev, bob.event_types()
    assert bob.wait_event("CALL_CLOSED", 5), bob.event_types()
    srvaddr = "127.0.0.1:%d" % env.srv.port
    bye = tb.find(bob, lambda p, s, d, m: s == srvaddr and tb.is_req("BYE")(m),
                  "BYE from siphond", 2)
    assert tb.hdrs(bye[3], "Call-ID") and not tb.hdrs(bye[3], "Record-Route"), bye


def main():
    args = st.setup()
    t = st.Runner()
    if not os.path.exists(tb.BARESIP):
        print("FATAL: baresip not found (Debian package baresip-core)")
        return 1
    env = Env(args.bin_dir)
    try:
        t.run("baresip calls siphon listen through siphond", baresip_calls_siphon, env)
        t.run("siphon calls baresip through siphond", siphon_calls_baresip, env)
    finally:
        t.run("siphond stops cleanly", env.stop)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
