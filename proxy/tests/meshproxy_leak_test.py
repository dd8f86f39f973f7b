"""meshproxy holds no file descriptors or memory past the load it served: an ingress gateway
configured by a real meshd takes ~60 s of load in bounded rounds (wrk over HTTP/1.1, h2load
over h2c, curl with keep-alive and with a new connection per request, requests with no route
(404) and to a cluster whose endpoint refuses connections (503), malformed and abandoned
requests on raw sockets). After each round, once the clients are gone, the proxy's open file
descriptors (/proc/PID/fd) and resident memory (VmRSS) are sampled.

Asserted: apart from pooled keep-alive connections to the backend (at most 64 per worker and
host, as the pool allows; they stay open as Envoy's do until their idle timeout), the
descriptor count returns to its value before the load within a small constant, and resident
memory reaches a plateau: it grows by less than RSS_PLATEAU_MIB between round 2 and the last
round. Under ASan (CI) freed memory sits in a quarantine first, so
meshproxy runs with a small one here; LeakSanitizer still checks every allocation at exit.

usage: meshproxy_leak_test.py MESHPROXY MESHD SOURCE_DIR [SECONDS]
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
LOAD_SECONDS = int(sys.argv[4]) if len(sys.argv) > 4 else 60
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (Meshd, Meshproxy, fd_count, free_port, gateway_yaml, rss_kib,  # noqa: E402
                     service_yaml, start_backend, temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
HOST = "samples.example.com"
ROUNDS = 6
WORKERS = 2
FD_SLACK = 4            # descriptors that may come and go between samples (xDS stream, timers)
RSS_PLATEAU_MIB = 8     # growth allowed between round 2 and the last round

# Raw requests the proxy must refuse or abandon cleanly: (bytes, whether to read an answer).
MALFORMED = [
    (b"BLAH\r\n\r\n", True),                                                         # 400
    (b"GET /api/x HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nX: " + b"a" * 70000 + b"\r\n\r\n", True),  # 431
    (b"GET /api/x HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nTransfer-Encoding: gzip\r\n\r\n", True),  # 501
    (b"GET /api/x HTTP/1.1\r\nHost: sam", False),                                    # cut short
    (b"POST /api/x HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nContent-Length: 100\r\n\r\n0123456789", False),
    (b"", False),                                                                    # connect, close
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x02\x09\x00\x00\x00\x00\x00zz", True),  # h2: bad frame
]


def run(argv, timeout):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


class MeshproxyLeak(unittest.TestCase):
    def setUp(self):
        for tool in ("wrk", "h2load", "curl"):
            if shutil.which(tool) is None:
                self.fail(f"{tool} not found on PATH (scripts/setup installs it)")
        self.tmp, self.procs = temp_processes(self, "meshproxy-leak-")
        self.gw, self.backend, refused = free_port(), free_port(), free_port()
        config = write_config(
            os.path.join(self.tmp, "config"),
            service_yaml("samples", "edge", self.backend), service_yaml("down", "edge", refused),
            gateway_yaml(self.gw, HOST, [("/api", "samples.edge.svc.cluster.local"),
                                         ("/down", "down.edge.svc.cluster.local")]))
        start_backend(self.procs, "backend", self.backend, reply="path")
        meshd = Meshd(self.procs, MESHD, config).start()
        # A small ASan quarantine: freed memory is reused within the run, so RSS can level off.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "quarantine_size_mb=4",
                                                     "thread_local_quarantine_size_kb=64"]))
        self.proxy = Meshproxy(
            self.procs, MESHPROXY, "meshproxy", meshd.xds, NODE_ID, "--type", "router",
            "--labels", "istio=ingressgateway,app=istio-ingressgateway", "--threads", str(WORKERS),
            "--drain-timeout", "1s", "--prometheus-address", f"127.0.0.1:{free_port()}", env=env).process

    def url(self, path):
        return f"http://127.0.0.1:{self.gw}{path}"

    def curl_codes(self, *args):
        """Status codes of one curl run; URLs in args each get their own -o (curl's rule)."""
        argv = ["curl", "-s", "-m", "10", "-w", "%{http_code}\\n", "-H", f"Host: {HOST}"]
        for a in args:
            argv += ["-o", "/dev/null", a] if a.startswith("http://") else [a]
        code, out = run(argv, timeout=60)
        return out.split()

    def malformed(self):
        for data, answer in MALFORMED:
            with socket.create_connection(("127.0.0.1", self.gw), timeout=5) as s:
                if data:
                    s.sendall(data)
                if answer:  # the proxy answers (or sends GOAWAY) and closes the connection
                    try:
                        while s.recv(65536):
                            pass
                    except ConnectionResetError:
                        pass
                    except socket.timeout:
                        self.fail(f"the proxy kept the connection open after {data[:40]!r}")

    def round(self, seconds):
        """One bounded round of load; returns what each client reported, for failure messages."""
        report = {}
        rc, out = run(["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "-H", f"Host: {HOST}",
                       self.url("/api/wrk")], timeout=seconds + 30)
        self.assertEqual(rc, 0, out)
        self.assertIn("requests in", out)
        self.assertNotIn("Non-2xx", out, out)
        report["wrk"] = out.split("requests in")[0].split()[-1]
        rc, out = run(["h2load", "-n", "2000", "-c", "8", "-m", "8", "-H", f":authority: {HOST}",
                       self.url("/api/h2")], timeout=120)
        self.assertIn("2000 succeeded", out, out)
        # Keep-alive: many requests on one connection, the failing ones in between.
        urls = [self.url(p) for p in ("/api/a", "/nowhere", "/down/x", "/api/b")] * 25
        codes = self.curl_codes(*urls)
        self.assertEqual(codes, ["200", "404", "503", "200"] * 25)
        # A new connection per request (the proxy closes after each), and POST bodies.
        codes = self.curl_codes("-H", "Connection: close", *urls[:40])
        self.assertEqual(codes, ["200", "404", "503", "200"] * 10)
        codes = self.curl_codes("--data-binary", "x" * 20000, *[self.url("/api/post")] * 20)
        self.assertEqual(codes, ["200"] * 20)
        for _ in range(10):
            self.malformed()
        return report

    def settled_fds(self, pid):
        """fd_count once it has stopped changing (connections closing after the load)."""
        last, stable_since = fd_count(pid, self.backend), time.monotonic()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and time.monotonic() - stable_since < 1.0:
            time.sleep(0.2)
            now = fd_count(pid, self.backend)
            if now != last:
                last, stable_since = now, time.monotonic()
        return last

    def test_fds_and_memory_level_off_under_load(self):
        wait_for("the gateway routing to the backend",
                 lambda: self.curl_codes(self.url("/api/warmup")) == ["200"], timeout=30)
        pid = self.proxy.pid
        before = self.settled_fds(pid)
        seconds = max(2, LOAD_SECONDS // ROUNDS - 3)  # wrk's share; h2load and curl take the rest
        samples = []  # ((fds, upstream fds), rss KiB) after each round
        started = time.monotonic()
        for r in range(ROUNDS):
            report = self.round(seconds)
            self.assertIsNone(self.proxy.poll(), self.procs.log_tail("meshproxy"))
            samples.append((self.settled_fds(pid), rss_kib(pid)))
            print(f"round {r + 1}: wrk {report['wrk']} requests; fds (other, pooled upstream) "
                  f"{samples[-1][0]}, rss {samples[-1][1] / 1024:.1f} MiB", file=sys.stderr)
        elapsed = time.monotonic() - started
        summary = f"fds before load {before}, per round {[s[0] for s in samples]}; " \
                  f"rss MiB {[round(s[1] / 1024, 1) for s in samples]}; {elapsed:.0f} s of load"
        print(summary, file=sys.stderr)

        # Pooled upstream connections: at most kMaxIdlePerHost (64) per worker and host; every
        # other descriptor (downstream connections, failed upstream attempts) is gone again.
        for (other, upstream), _ in samples:
            self.assertLessEqual(upstream, WORKERS * 64, summary)
            self.assertLessEqual(other, before[0] + FD_SLACK, summary)
        growth_mib = (samples[-1][1] - samples[1][1]) / 1024
        self.assertLess(growth_mib, RSS_PLATEAU_MIB, summary)

        # Still serving, and it exits cleanly (LeakSanitizer reports at exit under ASan).
        self.assertEqual(self.curl_codes(self.url("/api/after")), ["200"])
        self.assertEqual(self.procs.stop("meshproxy"), 0, self.procs.log_tail("meshproxy"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
