"""Certificates for the TLS tests, made with the openssl CLI in a scratch
directory: a test CA, a server certificate it signed for localhost,
127.0.0.1 and ::1, and an unrelated CA (self-signed, trusted by nobody) whose
certificate also serves as a server certificate no test CA vouches for."""

import os
import shutil
import subprocess
import tempfile


class Certs:
    """ca/ca_key, cert/key/csr (signed by ca), other_ca/other_key."""

    def __init__(self, handshake_timeout=None):
        self.dir = tempfile.mkdtemp(prefix="siphon-tls-")
        self.handshake_timeout = handshake_timeout
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        self.ca, self.ca_key = p("ca.crt"), p("ca.key")
        self.other_ca, self.other_key = p("other.crt"), p("other.key")
        self.cert, self.key, self.csr = p("srv.crt"), p("srv.key"), p("srv.csr")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for crt, key, cn in ((self.ca, self.ca_key, "Siphon Test CA"),
                             (self.other_ca, self.other_key, "Some Other CA")):
            self._run(["openssl", "req", "-x509"] + ec + ["-keyout", key, "-out", crt,
                                                          "-days", "2", "-subj", "/CN=" + cn])
        self._run(["openssl", "req", "-new"] + ec + ["-keyout", self.key, "-out", self.csr,
                                                     "-subj", "/CN=localhost"])
        with open(p("ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        self._run(["openssl", "x509", "-req", "-in", self.csr, "-CA", self.ca, "-CAkey",
                   self.ca_key, "-set_serial", "2", "-days", "2", "-extfile", p("ext.cnf"),
                   "-out", self.cert])

    @staticmethod
    def _run(cmd):
        subprocess.run(cmd, check=True, capture_output=True, timeout=30)

    def conf(self, cert=None, key=None, extra=""):
        """A [tls] section for siphond with this server certificate."""
        text = "[tls]\ncertificate = %s\nprivate_key = %s\n" % (cert or self.cert, key or self.key)
        if self.handshake_timeout is not None:
            text += "handshake_timeout = %d\n" % self.handshake_timeout
        return text + extra

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
