#!/usr/bin/env python3
"""Installation: `cmake --install` of the build under test into a temporary
DESTDIR gives the Debian-style layout for its prefix (sbin/siphond,
bin/siphon and bin/siphonctl, <sysconf>/siphon/siphon.conf whose data_dir
is <localstate>/lib/siphon, the systemd unit and sysusers file, the empty
data directory, the docs); the installed siphond accepts the installed
config with -c; a second install keeps the admin's config and puts the new
default beside it; the top-level Makefile's install target passes PREFIX
and DESTDIR on."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import siphon_test as st

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cache_value(bin_dir, key):
    with open(os.path.join(bin_dir, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"%s:[A-Z]+=(.*)$" % re.escape(key), line.strip())
            if m:
                return m.group(1)
    return None


def install(bin_dir, dest):
    env = dict(os.environ, DESTDIR=dest)
    p = subprocess.run(["cmake", "--install", bin_dir], env=env, capture_output=True,
                       timeout=120)
    assert p.returncode == 0, "cmake --install: %s" % p.stderr.decode("utf-8", "replace")
    return p.stdout.decode("utf-8", "replace")


def layout(prefix):
    sysconf = "/etc" if prefix == "/usr" else prefix + "/etc"
    state = "/var/lib/siphon" if prefix == "/usr" else prefix + "/var/lib/siphon"
    return sysconf + "/siphon", state


def run(t, bin_dir):
    bin_dir = os.path.abspath(bin_dir)
    prefix = cache_value(bin_dir, "CMAKE_INSTALL_PREFIX") or "/usr/local"
    data = cache_value(bin_dir, "SIPHON_DATA_DIR") or "var"
    confdir, state = layout(prefix)
    if data.startswith("/"):
        state = data
    dest = tempfile.mkdtemp(prefix="siphon-install-")
    try:
        def first():
            install(bin_dir, dest)
            for rel in ("sbin/siphond", "bin/siphon", "bin/siphonctl"):
                path = dest + prefix + "/" + rel
                assert os.access(path, os.X_OK), "missing or not executable: %s" % path
            conf = dest + confdir + "/siphon.conf"
            assert os.path.isfile(conf), "no %s" % conf
            text = open(conf).read()
            assert re.search(r"^data_dir = %s$" % re.escape(state), text, re.M), \
                "installed config's data_dir is not %s" % state
            assert os.path.isdir(dest + state), "no data directory %s" % (dest + state)
            unit = dest + prefix + "/lib/systemd/system/siphond.service"
            u = open(unit).read()
            assert "ExecStart=%s/sbin/siphond -f %s/siphon.conf" % (prefix, confdir) in u, u
            assert "ExecReload=/bin/kill -HUP $MAINPID" in u, u
            assert re.search(r"^User=siphon$", u, re.M) and "StateDirectory=siphon" in u, u
            assert "NoNewPrivileges=yes" in u and "ProtectSystem=strict" in u, u
            assert os.path.isfile(dest + prefix + "/lib/sysusers.d/siphon.conf")
            assert os.path.isfile(dest + prefix + "/share/doc/siphon/configuration.md")
            assert os.path.isfile(dest + prefix + "/share/doc/siphon/operations.md")
            assert os.path.isfile(dest + prefix + "/share/man/man8/siphond.8")
            # the installed binary on the installed config (its data_dir need not exist)
            rc, out, err = st.run_siphond(os.path.dirname(dest + prefix + "/sbin/siphond"),
                                          ["-c", "-f", conf])
            assert rc == 0 and "is valid" in out, "installed siphond -c: %d %s %s" % (
                rc, out, err)
        t.run("cmake --install with DESTDIR: layout for prefix %s, installed siphond -c "
              "accepts the installed config" % prefix, first)

        def again():
            conf = dest + confdir + "/siphon.conf"
            with open(conf, "a") as f:
                f.write("\n# the admin's edit\n")
            install(bin_dir, dest)
            assert "# the admin's edit" in open(conf).read(), "the admin's config was replaced"
            assert os.path.isfile(conf + ".dist"), "no siphon.conf.dist beside it"
        t.run("a second install keeps the admin's config (new default as .dist)", again)

        def makefile():
            p = subprocess.run(["make", "-n", "-C", ROOT, "install", "PREFIX=/usr",
                                "DESTDIR=/tmp/pkgroot", "BUILD=/nonexistent-build"],
                               capture_output=True, timeout=30)
            out = p.stdout.decode("utf-8", "replace")
            assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
            assert "-DCMAKE_INSTALL_PREFIX=/usr" in out, out
            assert "-DSIPHON_DATA_DIR=/var/lib/siphon" in out, out
            assert "DESTDIR=/tmp/pkgroot cmake --install" in out, out
        t.run("make install passes PREFIX, DESTDIR and the data dir on", makefile)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def main():
    args = st.setup()
    t = st.Runner()
    if not shutil.which("cmake"):
        t.check("cmake present", False, "cmake not found")
        return t.finish()
    run(t, args.bin_dir)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
