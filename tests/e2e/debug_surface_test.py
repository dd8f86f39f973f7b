#!/usr/bin/env python3
"""The debugging surface end to end: meshd on the payments sample, two Envoy-shaped ADS
clients connected as sidecars (ads_probe: one ACKs everything, one NACKs CDS), and the real
meshctl asking meshd (proxy-status, proxy-config, authz check, version, wait) and a proxy's
admin endpoint (--admin): a real meshproxy's, and a loopback HTTP server answering
/config_dump and /clusters with a dump the test edits, to see a diff.

Usage: debug_surface_test.py MESHCTL MESHD ADS_PROBE MESHPROXY SOURCE_DIR
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

MESHCTL, MESHD, ADS_PROBE, MESHPROXY, SOURCE = sys.argv[1:6]
sys.path.insert(0, os.path.join(SOURCE, "tests", "interop"))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

GOOD = "sidecar~127.0.0.1~payments-v1-0.payments~payments.svc.cluster.local"
BAD = "sidecar~127.0.0.2~orders-0.orders~orders.svc.cluster.local"
NACK_MESSAGE = "cluster refused by the probe"
# meshctl with no cluster and no local mesh: only what the test names.
ENV = dict(os.environ, KUBECONFIG="/dev/null", MESH_HOME="/nonexistent/mesh-home")




class AdminHandler(http.server.BaseHTTPRequestHandler):
    """Answers like an Envoy admin endpoint, from the documents the test sets."""
    documents = {}

    def do_GET(self):
        body = self.documents.get(self.path)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Mesh:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="debug-surface-")
        self.config = os.path.join(self.dir, "config")
        shutil.copytree(os.path.join(SOURCE, "samples", "payments"), self.config,
                        ignore=shutil.ignore_patterns("*.md"))
        self.procs = harness.Processes(self.dir)
        self.xds = f"127.0.0.1:{harness.free_port()}"
        self.monitoring = f"127.0.0.1:{harness.free_port()}"
        self.debug = f"127.0.0.1:{harness.free_port()}"

    def start(self):
        self.procs.start("meshd", [MESHD, "--config-dir", self.config, "--xds-address", self.xds,
                                   "--monitoring-address", self.monitoring, "--debug-address", self.debug,
                                   "--debounce", "20ms"])
        wait_for("meshd ready", self.ready)
        self.probe("good", GOOD, "--label", "app=payments-api", "--label", "version=v1")
        self.probe("bad", BAD, "--label", "app=orders", "--nack", "cds", "--nack-message", NACK_MESSAGE)

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://{self.monitoring}/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def probe(self, name, node, *flags):
        p = self.procs.start(name, [ADS_PROBE, "--xds-address", self.xds, "--node-id", node, *flags],
                             stdout=subprocess.PIPE)
        line = p.stdout.readline()
        if line.strip() != "synced":
            raise RuntimeError(f"{name} did not sync: {line!r}\n{self.procs.log_tail(name)}")

    def write(self, name, text):
        tmp = os.path.join(self.config, f".{name}.tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(self.config, name))

    def close(self):
        self.procs.stop_all()
        shutil.rmtree(self.dir, ignore_errors=True)


MESH = None


def setUpModule():
    global MESH
    MESH = Mesh()
    try:
        MESH.start()
    except Exception:
        MESH.close()
        raise


def tearDownModule():
    MESH.close()


def meshctl(*args, timeout=60):
    p = subprocess.run([MESHCTL, *args], capture_output=True, text=True, timeout=timeout, env=ENV)
    return p.returncode, p.stdout, p.stderr


def ok(*args):
    code, out, err = meshctl(*args)
    if code != 0:
        raise AssertionError(f"meshctl {' '.join(args)} exited {code}:\n{out}\n{err}")
    return out


class DebugSurface(unittest.TestCase):
    def meshd(self):
        return ("--meshd", MESH.debug)

    def test_proxy_status_table_and_json(self):
        out = ok("proxy-status", *self.meshd(), "--verbosity", "1")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "CLUSTER", "CDS", "EDS", "LDS", "RDS", "ISTIOD", "VERSION"])
        good = next(line for line in lines if line.startswith(GOOD))
        self.assertEqual(good.split()[2:6], ["SYNCED"] * 4)
        self.assertEqual(good.split()[-1], "1.0.0-probe")
        bad = next(line for line in lines if line.startswith(BAD))
        self.assertEqual(bad.split()[2], "NACK")
        default_table = ok("proxy-status", *self.meshd())
        self.assertIn("SUBSCRIBED TYPES", default_table.splitlines()[0])
        only_orders = ok("proxy-status", *self.meshd(), "-n", "orders")
        self.assertIn(BAD, only_orders)
        self.assertNotIn(GOOD, only_orders)
        doc = json.loads(ok("proxy-status", *self.meshd(), "-o", "json"))
        ids = [r["node"]["id"] for r in doc["resources"]]
        self.assertEqual(sorted(ids), sorted([GOOD, BAD]))

    def test_proxy_config_from_meshd(self):
        clusters = ok("proxy-config", "cluster", "payments-v1-0.payments", *self.meshd())
        self.assertEqual(clusters.splitlines()[0].split()[:4], ["SERVICE", "FQDN", "PORT", "SUBSET"])
        self.assertIn("payments-api.payments.svc.cluster.local", clusters)
        only_v2 = ok("proxy-config", "cluster", "payments-v1-0.payments", *self.meshd(), "--subset", "v2")
        self.assertIn("v2", only_v2)
        self.assertNotIn(" v1 ", only_v2)
        listeners = ok("proxy-config", "listener", GOOD, *self.meshd(), "--port", "15006")
        self.assertIn("15006", listeners)
        routes = json.loads(ok("proxy-config", "route", "payments-v1-0.payments", *self.meshd(), "-o", "json"))
        self.assertTrue(any(r.get("name") == "8080" for r in routes))
        endpoints = ok("proxy-config", "endpoint", "payments-v1-0.payments", *self.meshd(),
                       "--cluster", "outbound|8080|v1|payments-api.payments.svc.cluster.local")
        self.assertIn("HEALTHY", endpoints)
        everything = ok("proxy-config", "all", "payments-v1-0.payments", *self.meshd())
        self.assertIn("cluster/outbound|8080|v1|payments-api.payments.svc.cluster.local", everything)
        self.assertIn("endpoint/127.0.0.11:18081", everything)

    def test_unknown_proxy_and_unreachable_meshd(self):
        code, _, err = meshctl("proxy-config", "cluster", "nope.payments", *self.meshd())
        self.assertNotEqual(code, 0)
        self.assertIn('"nope.payments" is not connected', err)
        self.assertIn("proxy-status", err)
        code, _, err = meshctl("proxy-status", "--meshd", f"127.0.0.1:{harness.free_port()}")
        self.assertEqual(code, 69, err)
        self.assertIn("did not answer ListProxies", err)

    def test_authz_check_from_meshd(self):
        out = ok("authz", "check", "payments-v1-0.payments", *self.meshd())
        self.assertEqual(out.splitlines()[0].split(), ["ACTION", "AuthorizationPolicy", "RULES"])
        self.assertIn("allow-orders.payments", out)
        self.assertIn("deny-all.payments", out)

    def test_admin_source_and_diff(self):
        dump = ok("proxy-config", "all", "payments-v1-0.payments", *self.meshd(), "-o", "json")
        clusters = ok("proxy-config", "endpoint", "payments-v1-0.payments", *self.meshd(), "-o", "json")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AdminHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        admin = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            AdminHandler.documents = {"/config_dump": dump,
                                      "/clusters?format=json": json.dumps({"cluster_statuses": json.loads(clusters)})}
            out = ok("proxy-status", "payments-v1-0.payments", *self.meshd(), "--admin", admin)
            self.assertIn("Clusters Match", out)
            self.assertIn("Listeners Match", out)
            self.assertIn("Routes Match", out)
            self.assertEqual(ok("proxy-config", "cluster", "--admin", admin),
                             ok("proxy-config", "cluster", "payments-v1-0.payments", *self.meshd()))
            # The proxy lost a cluster meshd sends: the diff says so.
            doc = json.loads(dump)
            for section in doc["configs"]:
                if section["@type"].endswith("ClustersConfigDump"):
                    section["dynamic_active_clusters"] = section["dynamic_active_clusters"][1:]
            AdminHandler.documents["/config_dump"] = json.dumps(doc)
            out = ok("proxy-status", "payments-v1-0.payments", *self.meshd(), "--admin", admin)
            self.assertIn("Clusters Don't Match", out)
            code, _, err = meshctl("proxy-config", "cluster", "--admin", f"http://127.0.0.1:{harness.free_port()}")
            self.assertNotEqual(code, 0)
            self.assertIn("failed to get config dump", err)
        finally:
            server.shutdown()
            server.server_close()

    def test_real_proxy_admin(self):
        admin_port, status_port = harness.free_port(), harness.free_port()
        name = "orders-proxy"
        MESH.procs.start(name, [MESHPROXY, "--xds-address", MESH.xds,
                                "--id", "sidecar~127.0.0.3~orders-1.orders~orders.svc.cluster.local",
                                "--labels", "app=orders", "--admin-address", f"127.0.0.1:{admin_port}",
                                "--status-address", f"127.0.0.1:{status_port}"])
        admin = f"http://127.0.0.1:{admin_port}"
        try:
            def ready():
                try:
                    with urllib.request.urlopen(admin + "/ready", timeout=1) as r:
                        return r.status == 200
                except OSError:
                    return False
            wait_for("meshproxy ready", ready)
            # What the proxy holds is what meshd sends it.
            out = ok("proxy-status", "orders-1.orders", *self.meshd(), "--admin", admin)
            self.assertEqual([line.split()[0] for line in out.splitlines() if line.strip()][:3],
                             ["Clusters", "Listeners", "Routes"], out)
            self.assertNotIn("Don't Match", out)
            # The proxy also lists its bootstrap's static xds-grpc cluster, as Envoy does.
            from_proxy = [line for line in ok("proxy-config", "cluster", "--admin", admin).splitlines()
                          if not line.startswith("xds-grpc ")]
            self.assertEqual(from_proxy, ok("proxy-config", "cluster", "orders-1.orders", *self.meshd()).splitlines())
            # Logging levels live only in the running proxy.
            self.assertIn("active loggers", ok("proxy-config", "log", "--admin", admin, "--level", "debug"))
            code, _, err = meshctl("proxy-config", "log", "orders-1.orders")
            self.assertEqual(code, 64, err)
            self.assertIn("--admin", err)
        finally:
            MESH.procs.stop(name)

    def test_version_with_meshd(self):
        out = ok("version", *self.meshd())
        self.assertRegex(out, r"client version: \S+\ncontrol plane version: \S+\ndata plane version: "
                              r"1\.0\.0-probe \(2 proxies\)\n")
        doc = json.loads(ok("version", *self.meshd(), "-o", "json"))
        self.assertEqual(doc["meshVersion"][0]["Component"], "meshd")
        self.assertEqual(len(doc["dataPlaneVersion"]), 2)
        self.assertEqual(ok("version", "--remote=false", *self.meshd()).count("\n"), 1)

    def test_wait_for_distribution(self):
        # A route change reaches both proxies (RDS and LDS are not what the bad one NACKs).
        vs = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: debug-wait, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  http: [{match: [{uri: {prefix: /wait}}], route: [{destination: {host: payments-api.payments.svc.cluster.local}}]}]
"""
        MESH.write("zz-wait-vs.yaml", vs)
        out = ok("wait", "--for=distribution", "virtualservice/debug-wait.payments", *self.meshd(), "--timeout", "20s")
        self.assertRegex(out, r"distributed to 2/2 proxies \(generation \d+\)")
        # A cluster change cannot reach the proxy that NACKs clusters: wait names it and why.
        dr = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: debug-wait, namespace: orders}
spec:
  host: orders.orders.svc.cluster.local
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 3}}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: orders, namespace: orders}
spec:
  hosts: [orders.orders.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.9}]
"""
        MESH.write("zz-wait-dr.yaml", dr)
        code, out, err = meshctl("wait", "destinationrule", "debug-wait.orders", *self.meshd(), "--timeout", "3s")
        self.assertEqual(code, 1, out + err)
        self.assertIn("orders-0.orders", err)
        self.assertIn(f"CDS (NACK: {NACK_MESSAGE})", err)
        self.assertNotIn("payments-v1-0.payments:", err)
        self.assertIn("timeout expired", err)
        # Half the proxies is enough with --threshold 0.5.
        ok("wait", "destinationrule", "debug-wait.orders", *self.meshd(), "--timeout", "10s", "--threshold", "0.5")
        # Deletion: waits until meshd dropped it and both proxies have the generation after.
        os.remove(os.path.join(MESH.config, "zz-wait-vs.yaml"))
        out = ok("wait", "--for=delete", "vs/debug-wait.payments", *self.meshd(), "--timeout", "20s")
        self.assertIn("deletion distributed to 2/2 proxies", out)
        # Invalid config is never distributed: wait says why at once.
        MESH.write("zz-wait-bad.yaml", vs.replace("debug-wait", "debug-bad").replace(
            "route: [{destination: {host: payments-api.payments.svc.cluster.local}}]",
            "route: [{destination: {host: payments-api.payments.svc.cluster.local}, weight: -5}]"))
        time.sleep(0.5)
        code, _, err = meshctl("wait", "vs/debug-bad.payments", *self.meshd(), "--timeout", "20s")
        self.assertEqual(code, 65, err)
        self.assertIn("meshd leaves it out as invalid", err)
        code, _, err = meshctl("wait", "nosuchkind/x", *self.meshd())
        self.assertEqual(code, 64, err)
        os.remove(os.path.join(MESH.config, "zz-wait-dr.yaml"))
        os.remove(os.path.join(MESH.config, "zz-wait-bad.yaml"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[6:], verbosity=2)
