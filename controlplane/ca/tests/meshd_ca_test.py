"""meshd's CA as a process: the root on /ca/root-cert.pem, TLS on the CA port that verifies
against it (openssl s_client), the root kept across restarts, plugged-in certificates, and no
secret in the log. Usage: meshd_ca_test.py MESHD"""
import ctypes
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "interop"))
from harness import free_port  # noqa: E402

MESHD = None


def _die_with_parent():
    # PR_SET_PDEATHSIG: a killed test leaves no meshd behind holding ports.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Meshd:
    def __init__(self, workdir, *extra, env=None):
        self.monitoring = free_port()
        self.ca_port = free_port()
        self.log_path = os.path.join(workdir, f"meshd-{self.ca_port}.log")
        config = os.path.join(workdir, "config")
        os.makedirs(config, exist_ok=True)
        argv = [MESHD, "--config-dir", config, "--xds-address", "127.0.0.1:0", "--debug-address", "127.0.0.1:0",
                "--monitoring-address", f"127.0.0.1:{self.monitoring}", "--ca-address", f"127.0.0.1:{self.ca_port}",
                *extra]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env, preexec_fn=_die_with_parent)

    def root(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"meshd exited {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.monitoring}/ca/root-cert.pem", timeout=2) as r:
                    return r.read().decode()
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"meshd did not serve its root:\n{self.log()}")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def s_client(port, ca_file, hostname):
    """Whether openssl s_client verified the CA port's certificate against ca_file for
    hostname, and its output. (Its exit code is no verdict: gRPC closes the idle connection
    without close_notify, which OpenSSL 3 reports as an error after a good handshake.)"""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", ca_file,
                        "-verify_return_error", "-verify_hostname", hostname],
                       input="", capture_output=True, text=True, timeout=20)
    out = r.stdout + r.stderr
    return "Verify return code: 0 (ok)" in out, out


class MeshdCaTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="meshd-ca-test-")
        self.env = dict(os.environ, MESH_HOME=os.path.join(self.dir, "home"))
        self.started = []

    def tearDown(self):
        for m in self.started:
            m.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *extra):
        m = Meshd(self.dir, *extra, env=self.env)
        self.started.append(m)
        return m

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_self_signed_root_served_verified_and_kept(self):
        m = self.start("--ca")
        root = m.root()
        self.assertIn("BEGIN CERTIFICATE", root)
        ca_dir = os.path.join(self.dir, "home", "ca")
        for name in ("ca-cert.pem", "ca-key.pem", "token"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(ca_dir, name)).st_mode), 0o600, name)
        root_file = self.write("root.pem", root)
        for host in ("localhost", "istiod.istio-system.svc"):
            verified, out = s_client(m.ca_port, root_file, host)
            self.assertTrue(verified, out)
        # A client trusting another root refuses the CA port.
        other = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                "-nodes", "-subj", "/O=other", "-days", "1", "-keyout", os.path.join(self.dir, "o.key"),
                                "-out", os.path.join(self.dir, "other.pem")], capture_output=True, text=True)
        self.assertEqual(other.returncode, 0, other.stderr)
        verified, out = s_client(m.ca_port, os.path.join(self.dir, "other.pem"), "localhost")
        self.assertFalse(verified, out)
        self.assertIn("certificate verify failed", out)

        with open(os.path.join(ca_dir, "token")) as f:
            token = f.read().strip()
        m.stop()
        again = self.start("--ca")
        self.assertEqual(again.root(), root)
        for log in (m.log(), again.log()):
            self.assertNotIn(token, log)
            self.assertNotIn("PRIVATE KEY", log)

    def test_plugged_in_root(self):
        key = os.path.join(self.dir, "plugged.key")
        cert = os.path.join(self.dir, "plugged.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                            "-subj", "/O=plugged", "-days", "30", "-keyout", key, "-out", cert,
                            "-addext", "basicConstraints=critical,CA:TRUE",
                            "-addext", "keyUsage=critical,keyCertSign,cRLSign"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chmod(key, 0o600)
        token = self.write("token", "plugged-token\n")
        m = self.start("--ca-cert", cert, "--ca-key", key, "--ca-token-file", token)
        with open(cert) as f:
            self.assertEqual(m.root(), f.read())
        verified, out = s_client(m.ca_port, cert, "localhost")
        self.assertTrue(verified, out)

    def test_bad_ca_flags_are_usage_errors(self):
        cert = self.write("only-cert.pem", "x")
        m = self.start("--ca-cert", cert)
        self.assertEqual(m.proc.wait(timeout=20), 64, m.log())
        self.assertIn("--ca-cert and --ca-key", m.log())
        bad = self.start("--ca", "--trust-domain", "Not Valid")
        self.assertEqual(bad.proc.wait(timeout=20), 64, bad.log())


if __name__ == "__main__":
    MESHD = sys.argv.pop(1)
    unittest.main(verbosity=2)
