#!/usr/bin/env python3
"""siphon against SIPp over loopback:

- siphon calls a SIPp UAS (ua_uas.xml): the INVITE offers PCMU, PCMA and
  telephone-event, SIPp rings and answers, siphon ACKs, talks a second
  (RTP sent and, from SIPp's echo-less side, none needed), DTMF sent as
  RFC 4733, hangs up with a BYE: exit 0, SIPp's scenario complete;
- early media: a 183 with the SDP answer starts siphon's RTP before the 200;
- a SIPp UAS that refuses (486, 603, 404): siphon ACKs and exits 4, 1, 1;
- 3xx recursion: a SIPp redirect (302) to a second SIPp UAS, which
  answers: siphon follows it and exits 0;
- a SIPp UAC (ua_uac.xml: PCMA preferred) calls `siphon listen
  --auto-answer`: 180, 200 with a PCMA answer, ACK, BYE from SIPp, 200;
  siphon reports the call and the far end's hang-up;
- RFC 3262 and RFC 4028 both ways: a SIPp UAS sends its 180 reliably
  (siphon PRACKs it with the right RAck) and asks siphon to refresh the
  session every 4 s (a re-INVITE arrives within the interval); a SIPp UAC
  requires 100rel (siphon's 180 carries Require: 100rel and RSeq, the 200
  waits for the PRACK) and asks siphon (the UAS) to refresh: it re-INVITEs;
- a forked INVITE (siphond, two SIPp phones of one user) whose forks both
  send a reliable 180 under their own To tags: each is PRACKed within its
  own early dialog; one answers, the other is cancelled;
- a CANCEL nobody answers: the INVITE is given up 64*T1 later (§9.1);
- no answer at all (nothing listening): exit 2 within 64*T1 (T1 = 50 ms)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import regtest as rt  # noqa: E402
import siphon_test as st  # noqa: E402
import uatest as ua  # noqa: E402


class Sipp:
    """A SIPp scenario on a free port; keys replace [name] in the file."""

    def __init__(self, scenario, args=(), keys=None, calls=1, timeout=30):
        self.tmp = tempfile.mkdtemp(prefix="sipp-ua-")
        self.port = st.free_port()
        path = os.path.join(HERE, "sipp", scenario)
        if keys:
            # SIPp checks codes and URIs when it loads a scenario: write them in
            with open(path) as f:
                text = f.read()
            for k, v in keys.items():
                text = text.replace("[%s]" % k, str(v))
            path = os.path.join(self.tmp, scenario)
            with open(path, "w") as f:
                f.write(text)
        cmd = ["sipp", "-sf", path, "-t", "u1", "-i", "127.0.0.1", "-p", str(self.port),
               "-mp", str(st.free_port()), "-m", str(calls), "-nostdin",
               "-timeout", "%ds" % timeout, "-timeout_error", "-trace_err",
               "-error_file", os.path.join(self.tmp, "err.log")] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=self.tmp)
        st._live_procs.add(self.proc)
        time.sleep(0.2)  # bound before anyone calls

    def uri(self, user="uas"):
        return "sip:%s@127.0.0.1:%d" % (user, self.port)

    def wait(self, timeout=40):
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
        st._live_procs.discard(self.proc)
        err = ""
        path = os.path.join(self.tmp, "err.log")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                err = f.read()[-2000:]
        shutil.rmtree(self.tmp, ignore_errors=True)
        assert self.proc.returncode == 0, "SIPp exit %s\n%s\n%s" % (
            self.proc.returncode, out.decode("utf-8", "replace")[-1500:], err)


def call_sipp_uas(bin_dir):
    s = Sipp("ua_uas.xml")
    p = ua.Siphon(bin_dir, ["call", s.uri(), "--duration", "1", "--dtmf", "5"])
    rc = p.wait(20)
    assert rc == 0, "exit %d\n%s" % (rc, p.stderr())
    p.must_event("ringing", 0)
    p.must_event("answered", 0)
    end = p.must_event("ended", 0)
    assert end["reason"] == "local_bye" and end["rtp_sent"] >= 40 and end["dtmf_sent"] == 1, end
    s.wait()


def early_media(bin_dir):
    s = Sipp("ua_uas_183.xml")
    p = ua.Siphon(bin_dir, ["call", s.uri(), "--duration", "0.5"])
    rc = p.wait(20)
    assert rc == 0, "exit %d\n%s" % (rc, p.stderr())
    end = p.must_event("ended", 0)
    # 1 s of 183 + 0.5 s of call at 50 packets/s: the audio began at the 183
    assert end["rtp_sent"] >= 60, end
    s.wait()


def sipp_refuses(bin_dir):
    for code, want in ((486, 4), (603, 1), (404, 1)):
        s = Sipp("ua_uas_code.xml", keys={"code": code})
        p = ua.Siphon(bin_dir, ["call", s.uri(), "--duration", "1"])
        rc = p.wait(20)
        assert rc == want, "%d: exit %d (want %d)\n%s" % (code, rc, want, p.stderr())
        assert p.must_event("ended", 0)["status"] == code
        s.wait()


def redirect(bin_dir):
    final = Sipp("ua_uas.xml")
    moved = Sipp("ua_uas_302.xml", keys={"target": final.uri("moved")})
    p = ua.Siphon(bin_dir, ["call", moved.uri(), "--duration", "0.5"])
    rc = p.wait(20)
    assert rc == 0, "exit %d\n%s" % (rc, p.stderr())
    ev = p.must_event("redirected", 0)
    assert ev["status"] == 302 and ev["target"] == final.uri("moved"), ev
    p.must_event("answered", 0)
    moved.wait()
    final.wait()


def sipp_calls_listen(bin_dir):
    port = st.free_port()
    p = ua.Siphon(bin_dir, ["--listen", "127.0.0.1:%d" % port, "listen", "--auto-answer",
                            "--duration", "20"])
    p.must_event("listening", 10)
    s = Sipp("ua_uac.xml", args=["-s", "bob", "127.0.0.1:%d" % port])
    s.wait()
    p.must_event("incoming", 0)
    p.must_event("answered", 0)
    end = p.must_event("ended", 5)
    assert end["reason"] == "remote_bye" and end["rtp_sent"] >= 30, end
    p.signal(signal.SIGTERM)
    assert p.wait(10) == 0, p.stderr()


def uas_100rel_timer(bin_dir):
    s = Sipp("ua_uas_100rel.xml")
    p = ua.Siphon(bin_dir, ["call", s.uri(), "--duration", "3"])
    rc = p.wait(20)
    assert rc == 0, "exit %d\n%s" % (rc, p.stderr())
    p.must_event("answered", 0)
    s.wait()


def uac_100rel_timer(bin_dir):
    port = st.free_port()
    p = ua.Siphon(bin_dir, ["--listen", "127.0.0.1:%d" % port, "listen", "--auto-answer",
                            "--duration", "20"])
    p.must_event("listening", 10)
    s = Sipp("ua_uac_100rel.xml", args=["-s", "bob", "127.0.0.1:%d" % port])
    s.wait()
    p.must_event("answered", 0)
    assert p.must_event("ended", 5)["reason"] == "remote_bye"
    p.signal(signal.SIGTERM)
    assert p.wait(10) == 0, p.stderr()


# a 200 to the request just received (SIPp's [last_*] are that request's)
OK_LAST = """  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""
# what a fork does after its reliable 180 was PRACKed (ua_uas_fork_prack.xml):
# a second reliable provisional (its PRACK is CSeq 3 in this dialog), the
# 200, then the BYE must come with CSeq 4 (§12.2.1.1), whichever fork's 180
# reached the caller first
FORK_ANSWERS = """
  <send retrans="500">
    <![CDATA[
      SIP/2.0 183 Session Progress
      Via: [$invvia]
      Via: [$invvia2]
      Record-Route: [$rr]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 INVITE
      Contact: <sip:uas@[local_ip]:[local_port]>
      Require: 100rel
      RSeq: 8
      Content-Length: 0
    ]]>
  </send>
  <recv request="PRACK">
    <action>
      <ereg regexp="^ *8 1 INVITE *$" search_in="hdr" header="RAck:" check_it="true"
            assign_to="rack2"/>
      <ereg regexp="^ *3 PRACK *$" search_in="hdr" header="CSeq:" check_it="true"
            assign_to="cseq2"/>
    </action>
  </recv>
%(ok_last)s  <pause milliseconds="300"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      Via: [$invvia]
      Via: [$invvia2]
      Record-Route: [$rr]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 INVITE
      Contact: <sip:uas@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE">
    <action>
      <ereg regexp="^ *4 BYE *$" search_in="hdr" header="CSeq:" check_it="true"
            assign_to="byecseq"/>
    </action>
  </recv>
%(ok_last)s  <timewait milliseconds="500"/>
  <Reference variables="rack2,cseq2,byecseq"/>
""" % {"ok_last": OK_LAST}
FORK_CANCELLED = """
  <recv request="CANCEL"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=fork[rseq]-[pid]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=fork[rseq]-[pid]
      [last_Call-ID:]
      CSeq: 1 INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
  <timewait milliseconds="500"/>
"""


def forked_reliable_180(bin_dir):
    """siphond forks alice's INVITE to two SIPp phones of bob, each sending
    its 180 reliably under its own To tag (RSeq 7 and 3): siphon PRACKs
    each within its own early dialog (its To tag, its RSeq in RAck; RFC
    3262 §4, RFC 3261 §13.2.2.1). The first phone answers, the proxy
    cancels the other; alice's call completes."""
    conf = ("[domains]\nserve = example.com\n[auth]\nmethods = none\n"
            "[location]\nbackend = memory\n")
    with st.Siphond(bin_dir, config=conf) as srv:
        answers = Sipp("ua_uas_fork_prack.xml", keys={"body": FORK_ANSWERS, "rseq": 7})
        cancelled = Sipp("ua_uas_fork_prack.xml", keys={"body": FORK_CANCELLED, "rseq": 3})
        msg, _ = rt.register_msg(rt.new_call_id(), 1, user="bob", expires=300, contacts=[
            "<sip:bob@127.0.0.1:%d>" % answers.port, "<sip:bob@127.0.0.1:%d>" % cancelled.port])
        with st.udp_socket() as s:
            s.sendto(msg, ("127.0.0.1", srv.port))
            s.settimeout(5)
            assert st.parse_status(s.recv(65535))[0] == 200
        p = ua.Siphon(bin_dir, ["--user", "sip:alice@example.com", "--proxy",
                                "sip:127.0.0.1:%d" % srv.port, "call", "sip:bob@example.com",
                                "--duration", "1"])
        rc = p.wait(20)
        assert rc == 0, "exit %d\n%s" % (rc, p.stderr())
        p.must_event("answered", 0)
        answers.wait()
        cancelled.wait()


def cancel_unanswered(bin_dir):
    s = Sipp("ua_uas_deaf.xml")
    p = ua.Siphon(bin_dir, ["--timeout-t1", "50", "call", s.uri()])
    p.must_event("ringing", 10)
    t0 = time.monotonic()
    p.signal(signal.SIGINT)
    rc = p.wait(15)
    assert rc == 7, "exit %d (want 7)\n%s" % (rc, p.stderr())
    assert time.monotonic() - t0 < 8, "took %.1f s" % (time.monotonic() - t0)
    s.wait()


def no_answer(bin_dir):
    port = st.free_port()  # nothing listens there
    t0 = time.monotonic()
    p = ua.Siphon(bin_dir, ["--timeout-t1", "50", "call", "sip:x@127.0.0.1:%d" % port])
    rc = p.wait(20)
    assert rc == 2, "exit %d (want 2 timeout)\n%s" % (rc, p.stderr())
    assert time.monotonic() - t0 < 10


def main():
    args = st.setup()
    t = st.Runner()
    if not shutil.which("sipp"):
        print("FATAL: sipp not found (Debian package sip-tester)")
        return 1
    t.run("siphon calls a SIPp UAS: ring, answer, DTMF, BYE", call_sipp_uas, args.bin_dir)
    t.run("early media: RTP from the 183 with SDP on", early_media, args.bin_dir)
    t.run("SIPp UAS refuses 486/603/404: exit 4/1/1", sipp_refuses, args.bin_dir)
    t.run("302 to another SIPp UAS is followed", redirect, args.bin_dir)
    t.run("a SIPp UAC calls siphon listen --auto-answer", sipp_calls_listen, args.bin_dir)
    t.run("SIPp UAS with a reliable 180 and a session timer: PRACK, refresh re-INVITE",
          uas_100rel_timer, args.bin_dir)
    t.run("SIPp UAC requires 100rel and a refresh by us: reliable 180, re-INVITE",
          uac_100rel_timer, args.bin_dir)
    t.run("forked INVITE, a reliable 180 from each fork: each PRACKed in its own dialog",
          forked_reliable_180, args.bin_dir)
    t.run("CANCEL never answered: given up after 64*T1, exit 7", cancel_unanswered,
          args.bin_dir)
    t.run("no response: exit 2", no_answer, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
