"""meshproxy against a real meshd: the first config applied (/ready), /config_dump and /clusters
read by `meshctl proxy-config`, a config change reaching the proxy, a NACK (a regex over Envoy's
RE2 program size limit, which meshd accepts) seen in meshd's /debug/syncz while the proxy keeps
its last good config, meshd killed and restarted while the proxy keeps serving, the admin port
surviving a malformed request, and /quitquitquit.

usage: meshproxy_xds_test.py MESHPROXY MESHD MESHCTL SOURCE_DIR
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

MESHPROXY, MESHD, MESHCTL, SOURCE_DIR = sys.argv[1:5]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import Meshd, Meshproxy, free_port, http, temp_processes, wait_for  # noqa: E402

NODE_ID = "sidecar~127.0.0.1~orders-v1.orders~orders.svc.cluster.local"
V1 = "outbound|8080|v1|payments-api.payments.svc.cluster.local"
BIG_REGEX = "^/(alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa)/v[0-9]+/items/[a-z0-9-]{1,64}$"

LEDGER = """apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ledger
  namespace: payments
spec:
  hosts:
  - ledger.payments.svc.cluster.local
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 9090
    name: http
    protocol: HTTP
  endpoints:
  - address: 127.0.0.1
    ports:
      http: 18093
"""

REGEX_VS = f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: orders-items
  namespace: orders
spec:
  hosts:
  - orders.orders.svc.cluster.local
  http:
  - match:
    - uri:
        regex: "{BIG_REGEX}"
    route:
    - destination:
        host: orders.orders.svc.cluster.local
"""


class MeshproxyXds(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshproxy-xds-")
        self.config = os.path.join(self.tmp, "config")
        shutil.copytree(os.path.join(SOURCE_DIR, "samples", "payments"), self.config)
        self.meshd = Meshd(self.procs, MESHD, self.config).start()
        proxy = Meshproxy(self.procs, MESHPROXY, "meshproxy", self.meshd.xds, NODE_ID,
                          "--labels", "app=orders,version=v1", "--log-level", "debug")
        self.admin, self.status = proxy.admin, proxy.status

    def admin_get(self, path):
        return http("GET", f"http://127.0.0.1:{self.admin}{path}")

    def dump(self, query=""):
        status, body = self.admin_get("/config_dump" + query)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def meshctl(self, *args):
        p = subprocess.run([MESHCTL, *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def save(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def stats(self):
        status, body = self.admin_get("/stats?format=json")
        self.assertEqual(status, 200)
        return {s["name"]: s["value"] for s in json.loads(body)["stats"]}

    def syncz(self):
        status, body = http("GET", self.meshd.url("/debug/syncz"))
        self.assertEqual(status, 200)
        return [p for p in json.loads(body) if p["proxy_id"] == NODE_ID]

    def wait_ready(self):
        wait_for("meshproxy /ready", lambda: self.admin_get("/ready") == (200, "LIVE\n"),
                 timeout=30)

    def test_meshproxy_with_meshd(self):
        self.wait_ready()
        self.assertEqual(http("GET", f"http://127.0.0.1:{self.status}/healthz/ready")[0], 200)
        self.assertEqual(self.admin_get("/healthz"), (200, "OK\n"))

        # The dump has Envoy's layout, and meshctl reads it as it reads a real Envoy's.
        dump = self.dump()
        types = [c["@type"].rsplit(".", 1)[1] for c in dump["configs"]]
        self.assertEqual(types, ["BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump",
                                 "ScopedRoutesConfigDump", "RoutesConfigDump", "SecretsConfigDump"])
        self.assertEqual(dump["configs"][0]["bootstrap"]["node"]["id"], NODE_ID)
        clusters = dump["configs"][1]
        self.assertTrue(clusters["version_info"])
        active = {c["cluster"]["name"]: c for c in clusters["dynamic_active_clusters"]}
        self.assertIn(V1, active)
        self.assertIn("last_updated", active[V1])
        listeners = dump["configs"][2]["dynamic_listeners"]
        self.assertTrue(all("active_state" in l for l in listeners))
        routes = [r["route_config"]["name"] for r in dump["configs"][4]["dynamic_route_configs"]]
        self.assertIn("8080", routes)
        with_eds = self.dump("?include_eds=true")
        self.assertIn("EndpointsConfigDump", with_eds["configs"][2]["@type"])
        only = self.dump("?resource=dynamic_active_clusters&mask=cluster.name")
        self.assertIn({"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
                       "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": V1}},
                      only["configs"])

        dump_file = self.save("dump.json", json.dumps(dump))
        table = self.meshctl("proxy-config", "cluster", "--file", dump_file)
        self.assertRegex(table, r"payments-api\.payments\.svc\.cluster\.local\s+8080\s+v1\s+outbound\s+EDS")
        self.assertRegex(self.meshctl("proxy-config", "listener", "--file", dump_file), r"Route: 8080")
        self.assertIn("payments-api.payments", self.meshctl("proxy-config", "route", "--file", dump_file))
        status, clusters_json = self.admin_get("/clusters?format=json")
        self.assertEqual(status, 200)
        endpoints = self.meshctl("proxy-config", "endpoint", "--file", self.save("clusters.json", clusters_json))
        self.assertRegex(endpoints, r"127\.0\.0\.11:18081\s+HEALTHY\s+OK\s+outbound\|8080\|v1\|payments-api")
        self.assertIn(f"{V1}::127.0.0.11:18081::health_flags::healthy", self.admin_get("/clusters")[1])
        prom = self.admin_get("/stats/prometheus")[1]
        self.assertIn("# TYPE envoy_cluster_manager_cds_update_success counter", prom)

        # A config change reaches the proxy.
        self.save("config/ledger.yaml", LEDGER)
        ledger = "outbound|9090||ledger.payments.svc.cluster.local"
        wait_for("the ledger cluster in the dump", lambda: ledger in self.admin_get("/config_dump")[1])
        self.assertGreaterEqual(self.stats()["cluster_manager.cds.update_success"], 2)

        # meshd accepts the regex (it is under its length limit) but it is over Envoy's RE2
        # program size: the proxy NACKs RDS, meshd shows it, the proxy keeps its routes.
        rejected_before = self.stats()["listener_manager.rds.update_rejected"]
        self.save("config/regex.yaml", REGEX_VS)
        nack = wait_for("the NACK in meshd's syncz",
                        lambda: [p.get("route_nack") for p in self.syncz() if "route_nack" in p])
        self.assertIn("program size", nack[0])
        self.assertIn("8080", nack[0])
        status, errors = http("GET", self.meshd.url("/debug/config_errors"))
        self.assertEqual(json.loads(errors)["errors"], [])
        stats = self.stats()
        self.assertEqual(stats["listener_manager.rds.update_rejected"], rejected_before + 1)
        self.assertIn("program size", stats["listener_manager.rds.last_nack_message"])
        self.assertNotIn("alpha|beta", self.admin_get("/config_dump")[1])
        self.assertEqual(self.admin_get("/ready")[0], 200)
        os.remove(os.path.join(self.config, "regex.yaml"))
        wait_for("the route ACKed again", lambda: [p for p in self.syncz() if "route_nack" not in p])

        # meshd goes away: the proxy keeps its config and stays ready, then reconnects.
        self.procs.procs["meshd"].kill()
        self.procs.stop("meshd")
        wait_for("the proxy to notice", lambda: self.stats()["control_plane.connected_state"] == 0)
        self.assertEqual(self.admin_get("/ready"), (200, "LIVE\n"))
        self.assertEqual(http("GET", f"http://127.0.0.1:{self.status}/healthz/ready")[0], 200)
        self.assertIn(ledger, self.admin_get("/config_dump")[1])
        time.sleep(1)  # a few reconnect attempts fail in the meantime
        self.meshd.start()
        wait_for("the proxy back in meshd's syncz", lambda: [p for p in self.syncz() if "cluster_acked" in p],
                 timeout=60)
        stats = self.stats()
        self.assertEqual(stats["control_plane.connected_state"], 1)
        self.assertGreaterEqual(stats["control_plane.stream_starts"], 2)
        self.assertEqual(stats["control_plane.stream_kind"], "delta")
        self.assertIn(ledger, self.admin_get("/config_dump")[1])

        # A malformed request gets 400 and costs only its own connection.
        with socket.create_connection(("127.0.0.1", self.admin), timeout=5) as s:
            s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        self.assertEqual(self.admin_get("/ready")[0], 200)
        self.assertEqual(http("POST", f"http://127.0.0.1:{self.admin}/logging?level=info")[0], 200)
        self.assertEqual(http("POST", f"http://127.0.0.1:{self.admin}/logging?level=loud")[0], 400)
        self.assertEqual(self.admin_get("/quitquitquit")[0], 405)

        # /quitquitquit stops the proxy gracefully.
        self.assertEqual(http("POST", f"http://127.0.0.1:{self.admin}/quitquitquit"), (200, "OK\n"))
        self.assertEqual(self.procs.procs["meshproxy"].wait(timeout=15), 0)

    def test_admin_refuses_a_remote_address(self):
        p = subprocess.run([MESHPROXY, "--id", NODE_ID, "--admin-address", f"0.0.0.0:{free_port()}"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 64)
        self.assertIn("loopback", p.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
