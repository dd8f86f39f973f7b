"""Locality failover end to end: meshd serves an ingress gateway (meshproxy) whose WorkloadEntry
puts it in r1/z1, routing to a ServiceEntry with two WorkloadEntries, one in r1/z1 and one in
r2/z1, behind a DestinationRule with outlierDetection. Every request goes to the same-locality
endpoint (priority 0); once that backend is gone, outlier detection ejects it and traffic fails
over to the other region (priority 1).

usage: locality_failover_test.py MESHPROXY MESHD SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import Processes, free_port, http, wait_for  # noqa: E402

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "payments.edge.svc.cluster.local"

# Answers every GET with its own name.
BACKEND = """
import http.server, sys
NAME = sys.argv[2].encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", str(len(NAME)))
        self.end_headers()
        self.wfile.write(NAME)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class LocalityFailover(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="locality-failover-")
        self.procs = Processes(self.tmp)
        config = os.path.join(self.tmp, "config")
        os.makedirs(config)
        self.xds, self.mon, self.debug = free_port(), free_port(), free_port()
        self.admin, self.status, self.gw_port = free_port(), free_port(), free_port()
        self.near_port, self.far_port = free_port(), free_port()
        with open(os.path.join(config, "edge.yaml"), "w") as f:
            f.write(f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: payments, namespace: edge}}
spec:
  hosts: [{SERVICE}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP}}]
  workloadSelector: {{labels: {{app: payments}}}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: payments-near, namespace: edge}}
spec: {{address: 127.0.0.1, locality: r1/z1, labels: {{app: payments}}, ports: {{http: {self.near_port}}}}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: payments-far, namespace: edge}}
spec: {{address: 127.0.0.1, locality: r2/z1, labels: {{app: payments}}, ports: {{http: {self.far_port}}}}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: istio-ingressgateway-0, namespace: istio-system}}
spec: {{address: 127.0.0.1, locality: r1/z1, labels: {{istio: ingressgateway}}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: payments, namespace: edge}}
spec:
  host: {SERVICE}
  trafficPolicy:
    outlierDetection: {{consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: edge, namespace: edge}}
spec:
  selector: {{istio: ingressgateway}}
  servers: [{{port: {{number: {self.gw_port}, name: http, protocol: HTTP}}, hosts: [payments.example.com]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: edge, namespace: edge}}
spec:
  hosts: [payments.example.com]
  gateways: [edge]
  http: [{{route: [{{destination: {{host: {SERVICE}, port: {{number: 80}}}}}}]}}]
""")
        self.procs.start("near", [sys.executable, "-c", BACKEND, str(self.near_port), "near"])
        self.procs.start("far", [sys.executable, "-c", BACKEND, str(self.far_port), "far"])
        self.procs.start("meshd", [
            MESHD, "--config-dir", config, "--xds-address", f"127.0.0.1:{self.xds}",
            "--monitoring-address", f"127.0.0.1:{self.mon}", "--debug-address", f"127.0.0.1:{self.debug}",
            "--debounce", "50ms"])
        wait_for("meshd /ready", lambda: http("GET", f"http://127.0.0.1:{self.mon}/ready")[0] == 200)
        self.procs.start("meshproxy", [
            MESHPROXY, "--type", "router", "--xds-address", f"127.0.0.1:{self.xds}", "--id", NODE_ID,
            "--labels", "istio=ingressgateway,app=istio-ingressgateway",
            "--admin-address", f"127.0.0.1:{self.admin}", "--status-address", f"127.0.0.1:{self.status}",
            "--prometheus-address", "", "--no-ca"])

    def tearDown(self):
        self.procs.stop_all()
        if os.environ.get("KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def get(self):
        argv = ["curl", "-s", "-m", "5", "-H", "Host: payments.example.com", "-w", "\n%{http_code}",
                f"http://127.0.0.1:{self.gw_port}/"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        body, _, code = out.rpartition("\n")
        return int(code or 0), body

    def test_same_locality_first_then_failover(self):
        wait_for("the gateway routing to payments", lambda: self.get()[0] == 200)
        seen = [self.get() for _ in range(20)]
        self.assertEqual(seen, [(200, "near")] * 20)

        self.procs.stop("near")
        # The first request after that fails and gets the near host ejected; then the far
        # region's priority takes all the traffic.
        wait_for("failover to the other region", lambda: self.get() == (200, "far"))
        seen = [self.get() for _ in range(10)]
        self.assertEqual(seen, [(200, "far")] * 10)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
