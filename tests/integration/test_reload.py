#!/usr/bin/env python3
"""SIGHUP reload: siphond (two workers) re-reads its config file and applies
what can change live -- served domains, [routes], the [auth] policy, the log
level and the SIP trace -- while a binding registered before the reload
survives; what needs a restart ([server] workers) is logged and left; a
config that does not validate is refused whole and the running one keeps
working."""

import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

import regtest as rt
import siphon_test as st

CONF = """[server]
workers = {workers}
[domains]
serve = example.com{more_domains}
[auth]
methods = {methods}
[log]
level = {level}
sip_trace = {trace}
{routes}
"""


def conf(workers=2, more_domains="", methods="none", level="info", trace="off", routes=""):
    return CONF.format(workers=workers, more_domains=more_domains, methods=methods, level=level,
                       trace=trace, routes=routes)


def write_conf(srv, text):
    # the file siphond was started with (-f), rewritten in place
    with open(os.path.join(srv.tmp, "siphon.conf.new"), "w") as f:
        f.write(text)
    os.replace(os.path.join(srv.tmp, "siphon.conf.new"), os.path.join(srv.tmp, "siphon.conf"))


def hup(srv, needle, count):
    """SIGHUP, then wait for the count-th line containing needle."""
    srv.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if srv.stderr_text().count(needle) >= count:
            return
        time.sleep(0.02)
    raise AssertionError("no %r (#%d) after SIGHUP:\n%s" % (needle, count, srv.stderr_text()[-3000:]))


def invite(srv, sock, ruri):
    lport = sock.getsockname()[1]
    call_id = rt.new_call_id()
    msg = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-rl%08x;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:carol@example.net>;tag=rl1\r\n"
           "To: <%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:carol@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % (
               ruri, lport, random.getrandbits(32), ruri, call_id, lport)).encode()
    sock.sendto(msg, ("127.0.0.1", srv.port))
    return call_id


def final_of(sock, timeout=5):
    sock.settimeout(timeout)
    while True:
        data = sock.recv(65535)
        code = st.parse_status(data)[0]
        if code and code >= 200:
            return code


def answer_486(srv, far, fwd):
    vias = st.header(fwd, "Via", "v")
    resp = ("SIP/2.0 486 Busy Here\r\n%sFrom: %s\r\nTo: %s;tag=far\r\n"
            "Call-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n" % (
                "".join("Via: %s\r\n" % v for v in vias), st.header(fwd, "From", "f")[0],
                st.header(fwd, "To", "t")[0], st.header(fwd, "Call-ID", "i")[0],
                st.header(fwd, "CSeq")[0])).encode()
    far.sendto(resp, ("127.0.0.1", srv.port))


def routed_call(srv, far):
    """An INVITE for example.net reaches far (the [routes] hop); 486 back."""
    with st.udp_socket() as caller:
        invite(srv, caller, "sip:peer@example.net")
        far.settimeout(5)
        fwd = far.recv(65535)
        while fwd.startswith(b"ACK "):  # the previous call's, for its 486
            fwd = far.recv(65535)
        assert fwd.startswith(b"INVITE sip:peer@example.net SIP/2.0"), fwd[:80]
        answer_486(srv, far, fwd)
        code = final_of(caller)
        assert code == 486, "through the new route: %s" % code


def not_routed(srv):
    with st.udp_socket() as caller:
        invite(srv, caller, "sip:peer@example.net")
        code = final_of(caller)
        assert code == 403, "no route yet: %s" % code


def run(t, bin_dir):
    tmp = tempfile.mkdtemp(prefix="siphond-reload-")
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    rt.add_user(bin_dir, data, "alice@example.com", "apw")
    srv = rt.RegSiphond(bin_dir, data, config=conf(), domain=None)
    far = st.udp_socket()
    route = "[routes]\nexample.net = sip:127.0.0.1:%d\n" % far.getsockname()[1]
    ua = None
    try:
        srv.start()
        ua = rt.UA(srv.port, user="alice", password="apw")
        keep = ua.contact_uri("before")

        def before():
            resp = ua.register(contacts=[ua.contact("before")], expires=3600)
            assert rt.status(resp)[0] == 200, resp.decode()
            with rt.UA(srv.port, user="bob", domain="example.org") as bob:
                code = rt.status(bob.send(contacts=[bob.contact()]))[0]
                assert code == 403, "example.org is not served yet: %s" % code
            not_routed(srv)
        t.run("before: example.com served without auth, example.org refused, no route",
              before)

        def reload_good():
            write_conf(srv, conf(workers=1, more_domains=", example.org", methods="REGISTER",
                                 level="debug", trace="on", routes=route))
            hup(srv, "configuration 1 applied", 1)
            text = srv.stderr_text()
            assert "[server] workers changed: needs a restart" in text, text[-2000:]
            # every worker took it, then the old generation was freed
            st_end = time.monotonic() + 5
            while "generation 1 taken by every worker" not in srv.stderr_text():
                assert time.monotonic() < st_end, srv.stderr_text()[-2000:]
                time.sleep(0.02)
        t.run("SIGHUP: new domain, route, auth policy, debug + trace applied; "
              "workers needs a restart", reload_good)

        def after():
            # the auth policy changed: a REGISTER without credentials gets 401
            with rt.UA(srv.port, user="alice") as anon:
                code = rt.status(anon.send(contacts=[anon.contact("anon")]))[0]
                assert code == 401, "REGISTER needs credentials now: %s" % code
            # the binding made before the reload is still there
            ua.chal = None
            binds = ua.fetch()
            assert keep in binds, "binding lost across the reload: %r" % binds
            # example.org is served now (challenged, not refused)
            with rt.UA(srv.port, user="bob", domain="example.org") as bob:
                code = rt.status(bob.send(contacts=[bob.contact()]))[0]
                assert code == 401, "example.org after the reload: %s" % code
            routed_call(srv, far)
            # SIP trace at debug level: the INVITE in and out
            text = srv.stderr_text()
            assert "DEBUG sip: recv" in text and "INVITE sip:peer@example.net" in text, \
                text[-2000:]
        t.run("after: 401 policy, binding kept, example.org served, route used, trace",
              after)

        def reload_bad():
            write_conf(srv, conf(methods="REGISTER", routes=route) +
                       "[proxy]\ntimer_c = 0\n")
            hup(srv, "reload refused, the running configuration stays", 1)
            text = srv.stderr_text()
            assert "timer_c" in text and "siphon.conf:" in text, text[-2000:]
            assert "configuration 2 applied" not in text
            binds = ua.fetch()
            assert keep in binds, "binding lost after a refused reload: %r" % binds
            routed_call(srv, far)
        t.run("a bad config on SIGHUP is refused (file:line, key), the old one serves",
              reload_bad)

        def reload_back():
            write_conf(srv, conf())
            hup(srv, "configuration 2 applied", 1)
            not_routed(srv)
            with rt.UA(srv.port, user="alice") as anon:
                resp = anon.send(contacts=[anon.contact("anon")])
                assert rt.status(resp)[0] == 200, resp.decode()
        t.run("SIGHUP back: route gone, no auth again", reload_back)

        def storm():
            # requests on both workers while the configuration changes under
            # them (ThreadSanitizer's case): every one is answered
            stop = threading.Event()
            errors, answered = [], [0]

            def traffic():
                try:
                    with rt.UA(srv.port, user="alice") as anon:
                        while not stop.is_set():
                            code = rt.status(anon.send(contacts=[anon.contact("storm")]))[0]
                            assert code in (200, 401), code
                            with st.udp_socket() as caller:
                                cid = invite(srv, caller, "sip:peer@example.net")
                                try:
                                    code = final_of(caller)
                                except socket.timeout:
                                    raise AssertionError("no final response to INVITE %s; log:\n%s" % (
                                        cid, "\n".join(l for l in srv.stderr_text().splitlines()
                                                       if cid in l or "WARN" in l or "ERROR" in l)))
                                assert code in (403, 486, 408, 503), code
                            answered[0] += 1
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))

            def answer_far():
                far.settimeout(0.2)
                while not far_stop.is_set():
                    try:
                        fwd = far.recv(65535)
                    except OSError:
                        continue
                    try:
                        if fwd.startswith(b"INVITE "):
                            answer_486(srv, far, fwd)
                    except Exception as e:  # noqa: BLE001
                        errors.append("far: %r on %r" % (e, fwd[:300]))
            far_stop = threading.Event()
            ths = [threading.Thread(target=traffic), threading.Thread(target=answer_far)]
            for th in ths:
                th.start()
            try:
                for i in range(12):
                    write_conf(srv, conf(methods="REGISTER" if i % 2 else "none",
                                         more_domains=", example.org" if i % 3 else "",
                                         routes=route if i % 2 else ""))
                    hup(srv, "configuration %d applied" % (3 + i), 1)
                    time.sleep(0.1)
            finally:
                stop.set()
                ths[0].join(10)
                far_stop.set()  # the last round's INVITE still needs its answer
                ths[1].join(10)
            assert not errors, errors
            assert answered[0] > 0, "no request went through during the reloads"
            assert srv.alive()
            print("  %d REGISTER + INVITE rounds answered during the reloads" % answered[0])
        t.run("12 reloads under traffic on both workers: every request answered", storm)
    finally:
        if ua:
            ua.close()
        far.close()
        t.run("SIGTERM -> exit 0, no sanitizer report", srv.stop)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    args = st.setup()
    t = st.Runner()
    run(t, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
