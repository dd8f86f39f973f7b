#!/usr/bin/env python3
"""The interop tools themselves, without meshd: echo_server, xds_client and node_client.js
talking by plain address (ipv4:/dns: targets), so a failure in xds_interop is meshd's.

Usage: echo_clients_test.py ECHO_SERVER XDS_CLIENT   (run by CTest as `echo_clients`)
"""
import signal
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from importing harness
import harness  # noqa: E402

ECHO_SERVER = XDS_CLIENT = None


class EchoClients(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="echo-clients-")
        self.procs = harness.Processes(self.tmp.name)
        self.clients = [harness.Client("cpp", XDS_CLIENT), harness.Client("node", XDS_CLIENT)]

    def tearDown(self):
        self.procs.stop_all()
        self.tmp.cleanup()

    def echo(self, name, *flags):
        return harness.start_echo(self.procs, ECHO_SERVER, name, *flags)

    def targets(self, client, port):
        # Both resolvers gRPC C++ ships for addresses; grpc-js accepts the same two forms.
        return [f"ipv4:127.0.0.1:{port}", f"dns:///127.0.0.1:{port}"]

    def test_calls_and_headers_reach_the_server(self):
        port = self.echo("echo-a")
        for client in self.clients:
            for target in self.targets(client, port):
                with self.subTest(client=client, target=target):
                    out, progress, _ = client.run(target, "--calls", "20", "--header",
                                                  "X-Test-Cohort=canary", "--header", "x-other=1")
                    self.assertEqual(out["servers"], {"echo-a": 20})
                    self.assertEqual(out["codes"], {"OK": 20})
                    self.assertEqual(out["metadata"].get("x-test-cohort"), "canary")
                    self.assertEqual(out["metadata"].get("x-other"), "1")
                    self.assertEqual(progress, [])

    def test_fail_first(self):
        for client in self.clients:
            with self.subTest(client=client):
                port = self.echo(f"ff-{client}", "--fail-first", "3")
                out, _, _ = client.run(f"ipv4:127.0.0.1:{port}", "--calls", "10")
                self.assertEqual(out["codes"], {"OK": 7, "UNAVAILABLE": 3})
                self.assertEqual(out["servers"], {f"ff-{client}": 7})
                self.assertIn("failed call 1 on purpose", out["errors"]["UNAVAILABLE"])

    def test_fail_rate_is_exact_and_spread(self):
        for client in self.clients:
            with self.subTest(client=client):
                port = self.echo(f"fr-{client}", "--fail-rate", "0.25")
                out, _, _ = client.run(f"ipv4:127.0.0.1:{port}", "--calls", "100")
                self.assertEqual(out["codes"], {"OK": 75, "UNAVAILABLE": 25})

    def test_fail_rate_half_fails_every_second_call(self):
        # Calls 2, 4, 6... fail. The retry case of xds_interop relies on this: after a failed
        # call the next one, and so the first retry, is OK.
        port = self.echo("half", "--fail-rate", "0.5")
        client = self.clients[0]
        for expected in ["OK", "UNAVAILABLE", "OK", "UNAVAILABLE"]:
            out, _, _ = client.run(f"ipv4:127.0.0.1:{port}", "--calls", "1")
            self.assertEqual(out["codes"], {expected: 1})

    def test_delay_past_deadline(self):
        port = self.echo("slow", "--delay-ms", "500")
        for client in self.clients:
            with self.subTest(client=client):
                out, _, _ = client.run(f"ipv4:127.0.0.1:{port}", "--calls", "2",
                                       "--deadline-ms", "100")
                self.assertEqual(out["codes"], {"DEADLINE_EXCEEDED": 2})
                self.assertEqual(out["servers"], {})

    def test_nothing_listening_is_unavailable(self):
        port = harness.free_port()
        for client in self.clients:
            with self.subTest(client=client):
                out, _, _ = client.run(f"ipv4:127.0.0.1:{port}", "--calls", "3",
                                       "--deadline-ms", "2000")
                self.assertEqual(out["codes"], {"UNAVAILABLE": 3})

    def test_duration_prints_windows_that_add_up(self):
        port = self.echo("timed")
        for client in self.clients:
            with self.subTest(client=client):
                out, progress, _ = client.run(f"ipv4:127.0.0.1:{port}", "--duration-s", "1.5",
                                              "--interval-ms", "5", "--report-ms", "250")
                self.assertGreaterEqual(len(progress), 5)
                for line in progress:
                    self.assertAlmostEqual(line["end"] - line["start"], 0.25, places=3)
                starts = [line["start"] for line in progress]
                self.assertEqual(starts, sorted(starts))
                ok_in_windows = sum(line["codes"].get("OK", 0) for line in progress)
                self.assertEqual(ok_in_windows, out["codes"]["OK"])
                self.assertEqual(list(out["codes"]), ["OK"])
                self.assertGreater(out["codes"]["OK"], 20)

    def test_usage_errors(self):
        for client in self.clients:
            with self.subTest(client=client):
                argv = client.command("ipv4:127.0.0.1:1", "--header", "novalue")
                p = harness.subprocess.run(argv, capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn("--header wants k=v", p.stderr)

    def test_server_stops_gracefully_on_sigterm(self):
        self.echo("stopper")
        p = self.procs.procs["stopper"]
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 0)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    ECHO_SERVER, XDS_CLIENT = sys.argv[1:3]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
