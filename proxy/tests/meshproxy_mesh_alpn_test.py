#!/usr/bin/env python3
"""Sidecar to sidecar over ISTIO_MUTUAL on a port of unknown protocol, all configured by meshd.

The payments sample as a local mesh (samples/payments/app/local_mesh.py: meshd with its CA, the
sidecars of orders and payments-api, STRICT mTLS, authorization) with one change: payments-api's
port is named "api" and declares no protocol, so meshd gives it Istio's AUTO chains: on the
server side an HTTP chain for the ALPNs istio-http/1.0, istio-http/1.1 and istio-h2, and a TCP
chain for the rest. Only Istio's istio.alpn filter on the client's outbound HTTP connection
manager makes the client offer istio-http/1.1 instead of its cluster's istio-peer-exchange,istio;
without it the request would reach the TCP chain, whose network RBAC cannot match the HTTP-only
rules of the AuthorizationPolicy and closes it.

Checks: requests from orders succeed; payments-api's sidecar reports them as HTTP requests
(reporter destination, connection_security_policy mutual_tls, orders' principal) and opens no
TCP connection for them; orders' sidecar reports destination_principal from the server
certificate and connection_security_policy unknown, as Istio's stats filter does.

    meshproxy_mesh_alpn_test.py MESHPROXY MESHD SOURCE_DIR
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
del sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "samples", "payments", "app"))
import local_mesh  # noqa: E402
from local_mesh import PAYMENTS_HOST, LocalMesh, http_get, wait_for  # noqa: E402

SAMPLE = os.path.join(SOURCE_DIR, "samples", "payments")
ORDERS_SPIFFE = "spiffe://cluster.local/ns/orders/sa/orders"
PAYMENTS_SPIFFE = "spiffe://cluster.local/ns/payments/sa/payments-api"
GATEWAY_SPIFFE = "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"


def auto_protocol_services(text):
    """services.yaml with payments-api's port named "api" and no protocol (Istio: AUTO)."""
    old = "    name: http\n    protocol: HTTP\n  workloadSelector:\n    labels:\n      app: payments-api\n"
    if old not in text or "    http: 18081\n" not in text or "    http: 18082\n" not in text:
        raise RuntimeError("samples/payments/services.yaml changed shape; update this test")
    text = text.replace(old, "    name: api\n  workloadSelector:\n    labels:\n      app: payments-api\n")
    return text.replace("    http: 18081\n", "    api: 18081\n").replace("    http: 18082\n", "    api: 18082\n")


def series(text, name):
    """[(labels dict, value)] of one metric in a Prometheus exposition."""
    out = []
    for m in re.finditer(r"^" + re.escape(name) + r"\{([^}]*)\} (\S+)$", text, re.M):
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        out.append((labels, float(m.group(2))))
    return out


def total(text, name, **want):
    return sum(v for labels, v in series(text, name) if all(labels.get(k) == w for k, w in want.items()))


mesh = None
work_dir = None


def setUpModule():
    global mesh, work_dir
    work_dir = tempfile.mkdtemp(prefix="mesh-alpn-")
    config = os.path.join(work_dir, "config")
    os.makedirs(config)
    for name in sorted(os.listdir(SAMPLE)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(SAMPLE, name), encoding="utf-8") as f:
            text = f.read()
        if name == "services.yaml":
            text = auto_protocol_services(text)
        with open(os.path.join(config, name), "w", encoding="utf-8") as f:
            f.write(text)
    mesh = LocalMesh(MESHD, MESHPROXY, config, work_dir, ports=local_mesh.free_ports(), secure=True)
    try:
        mesh.start()  # waits for orders → payments-api to answer 200 through both sidecars
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if mesh:
        mesh.stop()
    if work_dir and os.environ.get("KEEP_TMP") is None:
        shutil.rmtree(work_dir, ignore_errors=True)


def prometheus(proxy):
    status, body = http_get(mesh.url(proxy + "-prometheus", "/stats/prometheus"))
    assert status == 200, status
    return body


class MeshAlpn(unittest.TestCase):
    def test_requests_reach_the_http_chain_of_an_auto_port(self):
        servers = ("payments-api-v1", "payments-api-v2")
        http_before = sum(total(prometheus(s), "istio_requests_total", reporter="destination") for s in servers)
        tcp_before = sum(total(prometheus(s), "istio_tcp_connections_opened_total", reporter="destination")
                         for s in servers)
        for i in range(10):
            status, body = http_get(mesh.url("orders-outbound", f"/api/ping?i={i}"), host=PAYMENTS_HOST)
            self.assertEqual(status, 200, body)

        def served():
            n = sum(total(prometheus(s), "istio_requests_total", reporter="destination") for s in servers)
            return n - http_before >= 10 and n
        wait_for("the server sidecars' request metrics", served, timeout=10)
        tcp_after = sum(total(prometheus(s), "istio_tcp_connections_opened_total", reporter="destination")
                        for s in servers)
        self.assertEqual(tcp_after, tcp_before, "a request reached the TCP chain")

        # Server side (Istio's destination reporter): mTLS with the client's identity.
        inbound = [labels for s in servers for labels, v in series(prometheus(s), "istio_requests_total")
                   if labels.get("reporter") == "destination" and labels.get("response_code") == "200" and v > 0]
        # (The ingress gateway's requests, made while the mesh started, come this way too.)
        self.assertIn(ORDERS_SPIFFE, {labels["source_principal"] for labels in inbound})
        for labels in inbound:
            self.assertEqual(labels["connection_security_policy"], "mutual_tls", labels)
            self.assertIn(labels["source_principal"], (ORDERS_SPIFFE, GATEWAY_SPIFFE), labels)
            self.assertEqual(labels["request_protocol"], "http", labels)

        # Client side: the server certificate's identity; the policy only the server knows.
        outbound = [labels for labels, v in series(prometheus("orders-v1"), "istio_requests_total")
                    if labels.get("reporter") == "source" and labels.get("response_code") == "200" and v > 0]
        self.assertTrue(outbound)
        for labels in outbound:
            self.assertEqual(labels["destination_principal"], PAYMENTS_SPIFFE, labels)
            self.assertEqual(labels["connection_security_policy"], "unknown", labels)

    def test_orders_outbound_hcm_carries_istio_alpn(self):
        status, body = http_get(mesh.admin("orders-v1") + "/config_dump")
        self.assertEqual(status, 200)
        self.assertIn('"istio.alpn"', body)
        self.assertIn("istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig", body)
        self.assertIn('"istio-http/1.1"', body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
