"""meshproxy's telemetry against a real meshd: an ingress gateway (a Gateway and VirtualService
to a ServiceEntry whose STATIC endpoint, a WorkloadEntry, is a Python backend) serves 20 curl
requests; the destination workload, app and version from meshd's istio.workload metadata; Istio's
istio_requests_total and duration histogram on the Prometheus port (15090's role) and the admin
/stats/prometheus, 20 JSON access-log lines, W3C/B3 trace propagation with a new span per hop,
x-request-id kept or generated, and a request with no route logged as NR and counted as 404.

usage: meshproxy_telemetry_test.py MESHPROXY MESHD SOURCE_DIR
"""
import json
import os
import re
import sys
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (Meshd, Meshproxy, curl, free_port, gateway_yaml, http, json_lines,  # noqa: E402
                     service_yaml, start_backend, temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "samples.edge.svc.cluster.local"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def samples(text, name):
    """[(labels dict, value)] of one metric in Prometheus text."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^" + re.escape(name) + r"\{(.*)\} (\S+)$", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
            out.append((labels, float(m.group(2))))
    return out


def value(text, name, **want):
    return sum(v for labels, v in samples(text, name) if all(labels.get(k) == w for k, w in want.items()))


class MeshproxyTelemetry(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshproxy-telemetry-")
        self.prom, self.gw_port, self.backend_port = free_port(), free_port(), free_port()
        self.access_log = os.path.join(self.tmp, "access.log")
        config = write_config(
            os.path.join(self.tmp, "config"), service_yaml("samples", "edge", app="samples-app"), f"""\
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: samples-vm-1, namespace: edge}}
spec:
  address: 127.0.0.1
  labels: {{app: samples-app, version: v3}}
  ports: {{http: {self.backend_port}}}
""", gateway_yaml(self.gw_port, "samples.example.com", [("/api", SERVICE)]))
        # Answers with the request's headers as JSON, so the test sees what the proxy sent.
        start_backend(self.procs, "backend", self.backend_port)
        meshd = Meshd(self.procs, MESHD, config).start()
        self.admin = Meshproxy(
            self.procs, MESHPROXY, "meshproxy", meshd.xds, NODE_ID, "--type", "router",
            "--labels", "istio=ingressgateway,app=istio-ingressgateway",
            "--service-account", "istio-ingressgateway-service-account",
            "--prometheus-address", f"127.0.0.1:{self.prom}",
            "--access-log", self.access_log, "--access-log-encoding", "JSON").admin

    def curl(self, path, *headers):
        code, _, body = curl(f"http://127.0.0.1:{self.gw_port}{path}",
                             *[arg for h in headers for arg in ("-H", h)], host="samples.example.com")
        return code, body

    def log_lines(self):
        return json_lines(self.access_log)

    def test_istio_metrics_access_log_and_tracing(self):
        # Warm-up requests count too: everything below is measured from after them.
        wait_for("the gateway routing to the backend", lambda: self.curl("/api/warmup")[0] == 200)
        scrape = lambda: http("GET", f"http://127.0.0.1:{self.prom}/stats/prometheus")[1]
        ok = dict(reporter="source", response_code="200", destination_service=SERVICE)
        # Telemetry is written just after the response: the one answered warm-up request must be
        # counted and logged before the baseline is taken, or it lands in the measured window.
        wait_for("the warm-up request counted and logged",
                 lambda: value(scrape(), "istio_requests_total", **ok) >= 1
                 and any(l["path"] == "/api/warmup" and l["response_code"] == 200 for l in self.log_lines()))
        before = scrape()
        count_before = value(before, "istio_requests_total", **ok)
        hist_before = value(before, "istio_request_duration_milliseconds_count", **ok)
        log_before = len(self.log_lines())

        seen = []
        for i in range(20):
            headers = []
            if i == 0:
                headers = [f"traceparent: 00-{TRACE_ID}-{PARENT}-01", "x-request-id: e2e-request-1"]
            code, body = self.curl(f"/api/item/{i}", *headers)
            self.assertEqual(code, 200, body)
            seen.append(json.loads(body))

        # Trace context: the same trace, a new span whose parent is the caller's span.
        first = seen[0]
        version, trace, span, flags = first["traceparent"].split("-")
        self.assertEqual((version, trace, flags), ("00", TRACE_ID, "01"))
        self.assertNotEqual(span, PARENT)
        self.assertEqual(first["x-b3-traceid"], TRACE_ID)
        self.assertEqual(first["x-b3-spanid"], span)
        self.assertEqual(first["x-b3-parentspanid"], PARENT)
        self.assertEqual(first["x-request-id"], "e2e-request-1")
        # Without incoming context: a new trace per request, and a generated UUIDv4 request id.
        uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        for s in seen[1:]:
            self.assertRegex(s["x-request-id"], uuid)
            self.assertRegex(s["traceparent"], r"^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$")
            self.assertNotIn(TRACE_ID, s["traceparent"])
            self.assertNotIn("x-b3-parentspanid", s)
        self.assertEqual(len({s["x-request-id"] for s in seen}), 20)

        # A request is counted once its response is written, which may be just after curl has it.
        wait_for("20 requests counted",
                 lambda: value(scrape(), "istio_requests_total", **ok) - count_before >= 20)
        after = scrape()
        self.assertEqual(value(after, "istio_requests_total", **ok) - count_before, 20, after)
        self.assertEqual(value(after, "istio_request_duration_milliseconds_count", **ok) - hist_before, 20)
        labels = next(l for l, _ in samples(after, "istio_requests_total") if l.get("response_code") == "200")
        self.assertEqual(labels["destination_service_name"], "samples")
        self.assertEqual(labels["destination_service_namespace"], "edge")
        # The endpoint's istio.workload metadata from meshd: the WorkloadEntry and its labels.
        self.assertEqual(labels["destination_workload"], "samples-vm-1")
        self.assertEqual(labels["destination_workload_namespace"], "edge")
        self.assertEqual(labels["destination_app"], "samples-app")
        self.assertEqual(labels["destination_version"], "v3")
        self.assertEqual(labels["destination_canonical_service"], "samples-app")
        self.assertEqual(labels["destination_canonical_revision"], "v3")
        self.assertEqual(labels["source_app"], "istio-ingressgateway")
        self.assertEqual(labels["source_workload_namespace"], "istio-system")
        self.assertEqual(labels["source_principal"],
                         "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account")
        self.assertEqual(labels["request_protocol"], "http")
        self.assertEqual(labels["response_flags"], "-")
        # Istio reports the policy only on the server side; a gateway (source) says "unknown".
        self.assertEqual(labels["connection_security_policy"], "unknown")
        # The admin endpoint serves the same Istio metrics after Envoy's own stats.
        admin = http("GET", f"http://127.0.0.1:{self.admin}/stats/prometheus")[1]
        self.assertIn("envoy_cluster_manager_cds_update_success", admin)
        self.assertGreaterEqual(value(admin, "istio_requests_total", **ok), 20)

        lines = wait_for("20 access-log lines", lambda: (l := self.log_lines()[log_before:]) and len(l) >= 20 and l)
        self.assertEqual(len(lines), 20)
        cluster = f"outbound|80||{SERVICE}"
        for i, line in enumerate(lines):
            self.assertEqual(line["method"], "GET")
            self.assertEqual(line["path"], f"/api/item/{i}")
            self.assertEqual(line["protocol"], "HTTP/1.1")
            self.assertEqual(line["response_code"], 200)
            self.assertEqual(line["response_flags"], "-")
            self.assertEqual(line["authority"], "samples.example.com")
            self.assertEqual(line["upstream_cluster"], cluster)
            self.assertEqual(line["upstream_host"], f"127.0.0.1:{self.backend_port}")
            self.assertEqual(line["request_id"], seen[i]["x-request-id"])
            self.assertEqual(line["traceparent"], seen[i]["traceparent"])
            self.assertTrue(line["user_agent"].startswith("curl/"))
            self.assertGreater(line["bytes_sent"], 0)
            self.assertIsInstance(line["duration"], int)
            self.assertIsNotNone(line["upstream_service_time"])
            self.assertRegex(line["start_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        # No route: 404, NR in the log and in the metrics.
        code, _ = self.curl("/nowhere")
        self.assertEqual(code, 404)
        nr = wait_for("the NR line", lambda: [l for l in self.log_lines() if l["path"] == "/nowhere"])
        self.assertEqual(nr[0]["response_flags"], "NR")
        self.assertEqual(nr[0]["response_code"], 404)
        self.assertIsNone(nr[0]["upstream_cluster"])
        wait_for("the NR request counted", lambda: value(scrape(), "istio_requests_total", reporter="source",
                                                          response_code="404", response_flags="NR") >= 1)
        self.assertEqual(value(scrape(), "istio_requests_total", reporter="source", response_code="404",
                               response_flags="NR"), 1)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
