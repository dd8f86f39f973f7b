"""Locality failover end to end: meshd serves an ingress gateway (meshproxy) whose WorkloadEntry
puts it in r1/z1, routing to a ServiceEntry with two WorkloadEntries, one in r1/z1 and one in
r2/z1, behind a DestinationRule with outlierDetection. Every request goes to the same-locality
endpoint (priority 0); once that backend is gone, outlier detection ejects it and traffic fails
over to the other region (priority 1).

usage: locality_failover_test.py MESHPROXY MESHD SOURCE_DIR
"""
import os
import sys
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (Meshd, Meshproxy, curl, free_port, gateway_yaml, service_yaml,  # noqa: E402
                     start_backend, temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "payments.edge.svc.cluster.local"


class LocalityFailover(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "locality-failover-")
        self.gw_port = free_port()
        self.near_port, self.far_port = free_port(), free_port()
        config = write_config(
            os.path.join(self.tmp, "config"), service_yaml("payments", "edge", app="payments"), f"""\
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
""", gateway_yaml(self.gw_port, "payments.example.com", [(None, SERVICE)]))
        # Each backend answers with its own name.
        start_backend(self.procs, "near", self.near_port, reply="near")
        start_backend(self.procs, "far", self.far_port, reply="far")
        meshd = Meshd(self.procs, MESHD, config).start()
        Meshproxy(self.procs, MESHPROXY, "meshproxy", meshd.xds, NODE_ID, "--type", "router",
                  "--labels", "istio=ingressgateway,app=istio-ingressgateway", "--prometheus-address", "", "--no-ca")

    def get(self):
        code, _, body = curl(f"http://127.0.0.1:{self.gw_port}/", host="payments.example.com")
        return code, body

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
