"""Certificates for the TLS tests, made with the openssl CLI in a scratch
directory: a test CA, a server certificate it signed for localhost,
127.0.0.1 and ::1, more on demand for other names (issue), and an unrelated
CA (self-signed, trusted by nobody) whose certificate also serves as a
server certificate no test CA vouches for."""

import os
import shutil
import subprocess
import tempfile

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


class Certs:
    """ca/ca_key, cert/key/csr (signed by ca), other_ca/other_key."""

    def __init__(self, handshake_timeout=None):
        self.dir = tempfile.mkdtemp(prefix="siphon-tls-")
        self.handshake_timeout = handshake_timeout
        self.serial = 1
        p = self._path
        self.ca, self.ca_key = p("ca.crt"), p("ca.key")
        self.other_ca, self.other_key = p("other.crt"), p("other.key")
        for crt, key, cn in ((self.ca, self.ca_key, "Siphon Test CA"),
                             (self.other_ca, self.other_key, "Some Other CA")):
            self._run(["openssl", "req", "-x509"] + EC + ["-keyout", key, "-out", crt,
                                                          "-days", "2", "-subj", "/CN=" + cn])
        self.cert, self.key = self._sign("srv", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1")
        self.csr = p("srv.csr")

    def issue(self, name):
        """A server certificate from ca for the DNS name only (no address):
        (cert, key) paths."""
        return self._sign(name, name, "DNS:" + name)

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _sign(self, stem, cn, san):
        p = lambda ext: self._path("%s.%s" % (stem, ext))  # noqa: E731
        self._run(["openssl", "req", "-new"] + EC + ["-keyout", p("key"), "-out", p("csr"),
                                                     "-subj", "/CN=" + cn])
        with open(p("cnf"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        self.serial += 1
        self._run(["openssl", "x509", "-req", "-in", p("csr"), "-CA", self.ca, "-CAkey",
                   self.ca_key, "-set_serial", str(self.serial), "-days", "2",
                   "-extfile", p("cnf"), "-out", p("crt")])
        return p("crt"), p("key")

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
