#!/usr/bin/env python3
"""1,000 calls in one siphon process against a SIPp UAS (ua_uas.xml):
`siphon call URI --count 1000 --duration 0` places them one after another
(INVITE, 180, 200 with SDP, ACK, an RTP packet, BYE, 200). Every call must
be answered and ended by our BYE, SIPp must see all 1,000 complete, and
siphon must exit 0 with no sanitizer report: in the AddressSanitizer build
LeakSanitizer runs at exit and fails the exit status on any leaked block,
so this is the "no leaks after 1,000 calls" proof. Bounded to 60 s."""

import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import siphon_test as st  # noqa: E402
import uatest as ua  # noqa: E402
from test_ua_sipp import Sipp  # noqa: E402

CALLS = 1000


def thousand_calls(bin_dir):
    s = Sipp("ua_uas.xml", calls=CALLS, timeout=60)
    t0 = time.monotonic()
    p = ua.Siphon(bin_dir, ["call", s.uri(), "--count", str(CALLS), "--duration", "0"])
    rc = p.wait(60)
    secs = time.monotonic() - t0
    assert rc == 0, "exit %d:\n%s" % (rc, p.stderr()[-3000:])
    summary = p.must_event("summary", 0)
    assert summary["placed"] == CALLS and summary["answered"] == CALLS, summary
    ends = p.names("ended")
    assert len(ends) == CALLS and all(e["reason"] == "local_bye" for e in ends), \
        [e for e in ends if e["reason"] != "local_bye"][:3]
    s.wait(30)
    print("     %d calls in %.1f s (%.1f ms per call)" % (CALLS, secs, 1000 * secs / CALLS))


def main():
    args = st.setup()
    t = st.Runner()
    if not shutil.which("sipp"):
        print("FATAL: sipp not found (Debian package sip-tester)")
        return 1
    t.run("1000 sequential calls against SIPp, exit 0, no leak report", thousand_calls,
          args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
