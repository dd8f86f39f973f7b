#!/usr/bin/env python3
"""The payments sample's canary scenario through real proxies on one host (issue #7): meshd with
the file backend, payments-api v1 and v2 and orders (samples/payments/app) each behind a
meshproxy sidecar (--inbound-bind / --outbound-bind / --listener-bind instead of iptables), and
an ingress gateway meshproxy; the topology is samples/payments/app/local_mesh.py, the same one
samples/payments/run-local starts.

Checked: the 90/10 split over 2,000 keep-alive requests through the orders sidecar, the
x-test-cohort: canary override to v2, a retry absorbing an injected 503, the route timeout
(504 "upstream request timeout"), the delay fault, outlier ejection of a failing endpoint
(visible in the gateway's admin /clusters and meshctl proxy-config endpoint), the ingress
gateway with curl, wrk through the orders sidecar, gRPC's own client through the gateway, and
meshctl proxy-status / proxy-config cluster|route|endpoint --admin showing it.

usage: canary_test.py MESHCTL MESHD MESHPROXY SOURCE_DIR [XDS_CLIENT ECHO_SERVER]
"""
import base64
import http.client
import json
import math
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

MESHCTL, MESHD, MESHPROXY, SOURCE_DIR = sys.argv[1:5]
XDS_CLIENT, ECHO_SERVER = (sys.argv[5:7] + [None, None])[:2]
sys.path.insert(0, os.path.join(SOURCE_DIR, "samples", "payments", "app"))
import local_mesh  # noqa: E402
from local_mesh import INGRESS_HOST, PAYMENTS_HOST, LocalMesh, free_port, http_get, wait_for  # noqa: E402

# The sample as it is (security.yaml: STRICT mTLS, deny-all + allow-orders, JWT) with meshd's
# CA and a workload certificate per proxy. MESH_CANARY_FULL_SAMPLE=0 runs it on a copy without
# security.yaml and without the CA (plain text between the proxies), as run-local --insecure.
FULL_SAMPLE = os.environ.get("MESH_CANARY_FULL_SAMPLE", "1") == "1"

SAMPLE = os.path.join(SOURCE_DIR, "samples", "payments")
V1 = "outbound|8080|v1|payments-api.payments.svc.cluster.local"
V2 = "outbound|8080|v2|payments-api.payments.svc.cluster.local"
ALL = "outbound|8080||payments-api.payments.svc.cluster.local"
GATEWAY = local_mesh.GATEWAY
GRPC_GATEWAY_PORT = 9090

# A gRPC echo service behind the ingress gateway (gRPC's own client needs an authority the
# gateway's "*" host matches; a sidecar's routes match only the service's names).
GRPC_CONFIG = """apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: echo, namespace: grpc-echo}}
spec:
  hosts: [echo.grpc-echo.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 7070, name: grpc, protocol: GRPC}}]
  endpoints: [{{address: 127.0.0.1, ports: {{grpc: {port}}}}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: grpc-ingress, namespace: istio-system}}
spec:
  selector: {{istio: ingressgateway}}
  servers: [{{port: {{number: {gateway_port}, name: grpc, protocol: GRPC}}, hosts: ["*"]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: echo-ingress, namespace: grpc-echo}}
spec:
  hosts: ["*"]
  gateways: [istio-system/grpc-ingress]
  http: [{{route: [{{destination: {{host: echo.grpc-echo.svc.cluster.local, port: {{number: 7070}}}}}}]}}]
"""

# The sample's VirtualService with a 1 s timeout instead of 10 s (so the test need not wait
# 10 s) and a route whose delay fault always applies (the sample's applies to 0.1%).
FAST_VIRTUAL_SERVICE = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments-api
  namespace: payments
spec:
  hosts:
  - payments-api.payments.svc.cluster.local
  http:
  - name: canary-override
    match:
    - headers:
        x-test-cohort:
          exact: canary
    route:
    - destination:
        host: payments-api.payments.svc.cluster.local
        subset: v2
  - name: always-delayed
    match:
    - headers:
        x-test-fault:
          exact: delay
    route:
    - destination:
        host: payments-api.payments.svc.cluster.local
        subset: v1
    fault:
      delay:
        percentage:
          value: 100
        fixedDelay: 700ms
  - name: split
    route:
    - destination:
        host: payments-api.payments.svc.cluster.local
        subset: v1
      weight: 90
    - destination:
        host: payments-api.payments.svc.cluster.local
        subset: v2
      weight: 10
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: 5xx,reset,connect-failure
    timeout: 1s
"""

mesh = None
work_dir = None
echo = None


def setUpModule():
    global mesh, work_dir, echo
    work_dir = tempfile.mkdtemp(prefix="canary-e2e-")
    config = os.path.join(work_dir, "config")
    os.makedirs(config)
    for name in sorted(os.listdir(SAMPLE)):
        if name.endswith(".yaml") and (FULL_SAMPLE or name != "security.yaml"):
            shutil.copy(os.path.join(SAMPLE, name), config)
    extra_binds = []
    if XDS_CLIENT and ECHO_SERVER:
        with open(os.path.join(work_dir, "echo.log"), "wb") as log:
            echo = subprocess.Popen([ECHO_SERVER, "--port", "0", "--name", "echo-grpc"], stdout=subprocess.PIPE,
                                    stderr=log, text=True, preexec_fn=local_mesh._die_with_parent)
        ready, _, _ = select.select([echo.stdout], [], [], 10)
        m = re.fullmatch(r"listening on (\d+)\n", echo.stdout.readline() if ready else "")
        if not m:
            raise RuntimeError("echo_server did not start")
        with open(os.path.join(config, "grpc-echo.yaml"), "w") as f:
            f.write(GRPC_CONFIG.format(port=m.group(1), gateway_port=GRPC_GATEWAY_PORT))
        extra_binds.append(f"0.0.0.0_{GRPC_GATEWAY_PORT}=127.0.0.1:{free_port()}")
    ports = local_mesh.free_ports()
    ports.update({"intruder-admin": free_port(), "intruder-status": free_port(), "intruder-prometheus": free_port(),
                  "intruder-outbound": free_port()})
    mesh = LocalMesh(MESHD, MESHPROXY, config, work_dir, ports=ports, secure=FULL_SAMPLE,
                     extra_gateway_binds=extra_binds)
    try:
        mesh.start()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if mesh:
        mesh.stop()
    if echo:
        echo.terminate()
        echo.wait()
        echo.stdout.close()
    if work_dir and os.environ.get("KEEP_TMP") is None:
        shutil.rmtree(work_dir, ignore_errors=True)


def meshctl(*args, timeout=60):
    p = subprocess.run([MESHCTL, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, MESH_HOME=os.path.join(work_dir, "no-mesh-home")))
    if p.returncode != 0:
        raise AssertionError(f"meshctl {' '.join(args)} exited {p.returncode}:\n{p.stderr}{p.stdout}")
    return p.stdout


def admin_get(proxy, path):
    return http_get(mesh.admin(proxy) + path)


def app_admin(workload, call, method="POST"):
    status, body = http_get(mesh.app_url(workload, call), method=method)
    assert status == 200, (status, body)
    return json.loads(body)


def reset_apps():
    for w in ("payments-api-v1", "payments-api-v2"):
        app_admin(w, "/admin/reset")


class Client:
    """A keep-alive HTTP/1.1 client of one proxy port (as an app calling through its sidecar)."""

    def __init__(self, port, host, timeout=20):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.host = host

    def get(self, path, headers=None):
        """(status, body text, seconds taken)."""
        start = time.monotonic()
        self.conn.request("GET", path, headers={"host": self.host, **(headers or {})})
        r = self.conn.getresponse()
        body = r.read().decode("utf-8", "replace")
        if r.getheader("connection", "").lower() == "close":
            self.conn.close()
        return r.status, body, time.monotonic() - start

    def close(self):
        self.conn.close()


def version_of(body):
    return json.loads(body)["version"]


def orders_client():
    return Client(mesh.ports["orders-outbound"], PAYMENTS_HOST)


def route_8080(proxy):
    routes = json.loads(meshctl("proxy-config", "route", "--admin", mesh.admin(proxy), "--name", "8080", "-o", "json"))
    vhost = next(vh for r in routes for vh in r["virtualHosts"] if PAYMENTS_HOST in vh["domains"])
    return {r["name"]: r for r in vhost["routes"]}


class Canary(unittest.TestCase):
    def tearDown(self):
        exited = mesh.exited()
        if exited:
            self.fail(f"exited during the test: {exited}\n" + "\n".join(mesh.log_tail(n) for n in exited))

    def test_01_proxy_status_and_config(self):
        status = json.loads(meshctl("proxy-status", "--meshd", f"127.0.0.1:{mesh.ports['debug']}", "-o", "json"))
        configs = status["resources"] if isinstance(status, dict) else [r for s in status for r in s["resources"]]
        synced = {c["node"]["id"]: {x["typeUrl"].rsplit(".", 1)[-1]: x["configStatus"] for x in c["genericXdsConfigs"]}
                  for c in configs}
        for w in local_mesh.WORKLOADS:
            self.assertEqual(synced.get(w.node_id), {"Cluster": "SYNCED", "ClusterLoadAssignment": "SYNCED",
                                                     "Listener": "SYNCED", "RouteConfiguration": "SYNCED"}, synced)
        gateway = [n for n in synced if n.startswith("router~")]
        self.assertEqual(len(gateway), 1, synced)
        self.assertEqual(set(synced[gateway[0]].values()), {"SYNCED"})
        table = meshctl("proxy-status", "--meshd", f"127.0.0.1:{mesh.ports['debug']}")
        for w in local_mesh.WORKLOADS:
            self.assertIn(w.node_id, table)

        # The sample's VirtualService as the orders sidecar has it: 90/10, retries, 10 s, canary.
        routes = route_8080("orders-v1")
        split = routes["split"]["route"]
        self.assertEqual([(c["name"], c["weight"]) for c in split["weightedClusters"]["clusters"]], [(V1, 90), (V2, 10)])
        self.assertEqual(split["timeout"], "10s")
        self.assertEqual(split["retryPolicy"]["numRetries"], 3)
        self.assertEqual(split["retryPolicy"]["perTryTimeout"], "2s")
        self.assertEqual(split["retryPolicy"]["retryOn"], "5xx,reset,connect-failure")
        delay = routes["split"]["typedPerFilterConfig"]["envoy.filters.http.fault"]["delay"]
        self.assertEqual((delay["fixedDelay"], delay["percentage"]["numerator"]), ("5s", 1000))  # 0.1%
        canary = routes["canary-override"]
        self.assertEqual(canary["match"]["headers"][0]["name"], "x-test-cohort")
        self.assertEqual(canary["route"]["cluster"], V2)

        clusters = meshctl("proxy-config", "cluster", "--admin", mesh.admin("orders-v1"))
        for subset in ("v1", "v2"):
            self.assertRegex(clusters, rf"payments-api\.payments\.svc\.cluster\.local\s+8080\s+{subset}\s+outbound\s+EDS"
                                       r"\s+payments-api\.payments")
        endpoints = meshctl("proxy-config", "endpoint", "--admin", mesh.admin("orders-v1"))
        self.assertRegex(endpoints, r"127\.0\.0\.11:18081\s+HEALTHY\s+OK\s+" + re.escape(V1))
        self.assertRegex(endpoints, r"127\.0\.0\.12:18082\s+HEALTHY\s+OK\s+" + re.escape(V2))
        # Each sidecar's inbound cluster reaches its app on 127.0.0.1 with the workload port.
        inbound = meshctl("proxy-config", "endpoint", "--admin", mesh.admin("payments-api-v1"))
        self.assertRegex(inbound, r"127\.0\.0\.1:18081\s+HEALTHY\s+OK\s+inbound\|18081\|\|")

    def test_02_split_90_10_over_2000_requests(self):
        # Four keep-alive callers of the orders sidecar, 500 requests each. The sample's 0.1%
        # delay fault (5 s) hits about two of them: a caller waits, the others go on.
        n, callers = 2000, 4
        counts, failures, slow = {}, [], []
        lock = threading.Lock()

        def caller():
            client = orders_client()
            try:
                for _ in range(n // callers):
                    status, body, took = client.get("/api/charge")
                    with lock:
                        if status != 200:
                            failures.append((status, body))
                            continue
                        v = version_of(body)
                        counts[v] = counts.get(v, 0) + 1
                        if took >= 5:
                            slow.append(took)
            finally:
                client.close()

        threads = [threading.Thread(target=caller) for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(sum(counts.values()), n)
        # Binomial(2000, 0.1): mean 200, sd 13.4; five sd either side fails a correct proxy
        # about once in 1.7 million runs.
        sd = math.sqrt(n * 0.1 * 0.9)
        self.assertLessEqual(abs(counts.get("v2", 0) - n * 0.1), 5 * sd, counts)
        print(f"\n  split over {n}: {counts}; delayed by the 0.1% fault: {len(slow)}", file=sys.stderr)

    def test_03_canary_header_always_v2(self):
        client = orders_client()
        try:
            versions = [version_of(client.get("/api/charge", {"x-test-cohort": "canary"})[1]) for _ in range(100)]
        finally:
            client.close()
        self.assertEqual(set(versions), {"v2"})
        # The orders app passes the header on through its sidecar.
        status, body = http_get(mesh.app_url("orders-v1", "/checkout"), headers={"x-test-cohort": "canary"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["payments"]["version"], "v2")

    def test_04_retries_absorb_an_injected_5xx(self):
        reset_apps()
        before = {w: app_admin(w, "/admin/stats", "GET") for w in ("payments-api-v1", "payments-api-v2")}
        # Whichever subset the split picks fails its first attempt with 503.
        for w in ("payments-api-v1", "payments-api-v2"):
            app_admin(w, "/admin/fail?count=1&status=503")
        client = orders_client()
        try:
            status, body, _ = client.get("/api/charge")
        finally:
            client.close()
        after = {w: app_admin(w, "/admin/stats", "GET") for w in ("payments-api-v1", "payments-api-v2")}
        reset_apps()
        self.assertEqual(status, 200, body)
        answered = version_of(body)
        app = f"payments-api-{answered}"
        self.assertEqual(after[app]["failed"] - before[app]["failed"], 1, after)
        self.assertEqual(after[app]["requests"] - before[app]["requests"], 2, after)  # the 503, then the retry
        # Through the orders app too: its one call to payments-api succeeds after a retry.
        app_admin("payments-api-v1", "/admin/fail?count=1&status=503")
        app_admin("payments-api-v2", "/admin/fail?count=1&status=503")
        status, body = http_get(mesh.app_url("orders-v1", "/checkout"))
        reset_apps()
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["payments"]["status"], 200)

    def test_05_ingress_gateway_with_curl(self):
        url = mesh.url("gateway-http", "/api/charge")
        out = subprocess.run(["curl", "-s", "-m", "10", "-H", f"Host: {INGRESS_HOST}", "-w", "\n%{http_code}", url],
                             capture_output=True, text=True, timeout=20).stdout
        body, _, code = out.rpartition("\n")
        self.assertEqual(code, "200", out)
        answer = json.loads(body)
        self.assertEqual(answer["service"], "payments-api")
        self.assertIn(answer["version"], ("v1", "v2"))
        # Only /api/ is exposed, and only for the Gateway's host.
        self.assertEqual(http_get(mesh.url("gateway-http", "/admin/stats"), host=INGRESS_HOST)[0], 404)
        self.assertEqual(http_get(url, host="other.example.com")[0], 404)

    def test_06_outlier_ejection_of_a_failing_endpoint(self):
        # The gateway's route has no subset: both endpoints are in one cluster, and the
        # DestinationRule's consecutive5xxErrors: 5 ejects v1 once it answers only 500s (not
        # 503: Istio's default retry policy would retry those on the other host).
        reset_apps()
        app_admin("payments-api-v1", "/admin/fail?count=1000&status=500")
        client = Client(mesh.ports["gateway-http"], INGRESS_HOST)
        try:
            ejected = ""
            for _ in range(60):
                client.get("/api/charge")
                status, text = admin_get(GATEWAY, "/clusters")
                ejected = [l for l in text.splitlines() if l.startswith(f"{ALL}::127.0.0.11:18081::health_flags::")]
                if ejected and "/failed_outlier_check" in ejected[0]:
                    break
            self.assertEqual(ejected, [f"{ALL}::127.0.0.11:18081::health_flags::/failed_outlier_check"])
            v1_before = app_admin("payments-api-v1", "/admin/stats", "GET")["requests"]
            answers = [client.get("/api/charge") for _ in range(20)]
        finally:
            client.close()
        self.assertEqual([(s, version_of(b)) for s, b, _ in answers], [(200, "v2")] * 20)
        self.assertEqual(app_admin("payments-api-v1", "/admin/stats", "GET")["requests"], v1_before)
        endpoints = meshctl("proxy-config", "endpoint", "--admin", mesh.admin(GATEWAY))
        self.assertRegex(endpoints, r"127\.0\.0\.11:18081\s+HEALTHY\s+FAILED\s+" + re.escape(ALL))
        self.assertRegex(endpoints, r"127\.0\.0\.12:18082\s+HEALTHY\s+OK\s+" + re.escape(ALL))
        clusters = json.loads(admin_get(GATEWAY, "/clusters?format=json")[1])
        hosts = next(c for c in clusters["cluster_statuses"] if c["name"] == ALL)["host_statuses"]
        flags = {h["address"]["socket_address"]["address"]: h["health_status"].get("failed_outlier_check", False)
                 for h in hosts}
        self.assertEqual(flags, {"127.0.0.11": True, "127.0.0.12": False})
        reset_apps()

    @unittest.skipUnless(XDS_CLIENT and ECHO_SERVER, "needs tests/interop's xds_client and echo_server")
    def test_07_grpc_client_through_the_gateway(self):
        port = int(mesh.extra_gateway_binds[0].rsplit(":", 1)[1])
        target = f"ipv4:127.0.0.1:{port}"
        wait_for("the gateway's gRPC listener", lambda: self._grpc(target, 1)["codes"].get("OK") == 1)
        summary = self._grpc(target, 50)
        self.assertEqual(summary["codes"], {"OK": 50}, summary)
        self.assertEqual(summary["servers"], {"echo-grpc": 50}, summary)

    def _grpc(self, target, calls):
        p = subprocess.run([XDS_CLIENT, "--target", target, "--calls", str(calls), "--deadline-ms", "5000"],
                           capture_output=True, text=True, timeout=60)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        if p.returncode != 0 or not lines:
            raise ValueError(f"xds_client exited {p.returncode}: {p.stderr[-500:]}")
        return json.loads(lines[-1])

    def test_08_wrk_through_the_orders_sidecar(self):
        p = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", "3s", "--timeout", "10s", "-H", f"Host: {PAYMENTS_HOST}",
                            mesh.url("orders-outbound", "/api/charge")], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.search(r"(\d+) requests in", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertGreater(int(m.group(1)), 0, p.stdout)
        self.assertNotIn("Non-2xx", p.stdout)
        self.assertNotIn("Socket errors", p.stdout)
        print(f"\n  wrk: {p.stdout.strip().splitlines()[-2]}", file=sys.stderr)

    def test_09_timeout_and_delay_fault(self):
        traffic = os.path.join(mesh.config_dir, "traffic.yaml")
        with open(traffic) as f:
            original = f.read()
        destination_rule = original.split("\n---\n")[0]
        try:
            with open(traffic + ".tmp", "w") as f:
                f.write(destination_rule + "\n---\n" + FAST_VIRTUAL_SERVICE)
            os.replace(traffic + ".tmp", traffic)
            wait_for("the 1 s timeout at the orders sidecar",
                     lambda: route_8080("orders-v1")["split"]["route"]["timeout"] == "1s")
            reset_apps()
            for w in ("payments-api-v1", "payments-api-v2"):
                app_admin(w, "/admin/sleep?count=1&ms=3000")
            client = orders_client()
            try:
                status, body, took = client.get("/api/charge")
                self.assertEqual((status, body), (504, "upstream request timeout"))
                self.assertGreaterEqual(took, 1.0)
                reset_apps()
                client.close()  # the 504 may have closed it
                status, body, took = client.get("/api/charge", {"x-test-fault": "delay"})
                self.assertEqual((status, version_of(body)), (200, "v1"))
                self.assertGreaterEqual(took, 0.7)  # the fixedDelay; no upper bound on a busy host
                print(f"\n  delay fault of 700 ms measured {took * 1000:.0f} ms", file=sys.stderr)
            finally:
                client.close()
        finally:
            with open(traffic + ".tmp", "w") as f:
                f.write(original)
            os.replace(traffic + ".tmp", traffic)
            reset_apps()
        wait_for("the sample's 10 s timeout back", lambda: route_8080("orders-v1")["split"]["route"]["timeout"] == "10s")

    def test_10_plaintext_inbound_without_the_security_sample(self):
        if FULL_SAMPLE:
            self.skipTest("STRICT mTLS: test_11 checks that plain text is refused")
        # --inbound-bind: the v1 sidecar on 127.0.0.11:18081 serves virtualInbound's chain for
        # port 18081, whose cluster is the app on 127.0.0.1:18081.
        status, body = http_get("http://127.0.0.11:18081/api/charge")
        self.assertEqual((status, version_of(body)), (200, "v1"))

    @unittest.skipUnless(FULL_SAMPLE, "MESH_CANARY_FULL_SAMPLE=0: no security.yaml")
    def test_11_mtls_and_authorization(self):
        # Each sidecar holds its workload certificate (SPIFFE identity of its service account)
        # and meshd's root, as SDS secrets "default" and "ROOTCA".
        for w in local_mesh.WORKLOADS:
            table = meshctl("proxy-config", "secret", "--admin", mesh.admin(w.name))
            self.assertRegex(table, r"(?m)^default\s+Cert Chain\s+ACTIVE\s+true\s")
            self.assertRegex(table, r"(?m)^ROOTCA\s+CA\s+ACTIVE\s+true\s")
            dump = json.loads(meshctl("proxy-config", "secret", "--admin", mesh.admin(w.name), "-o", "json"))
            chain = next(s["secret"]["tlsCertificate"]["certificateChain"]["inlineBytes"]
                         for s in dump["dynamicActiveSecrets"] if s["name"] == "default")
            san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=base64.b64decode(chain),
                                 capture_output=True, timeout=10).stdout.decode()
            self.assertIn(f"URI:spiffe://cluster.local/ns/{w.namespace}/sa/{w.account}", san)
        # A caller without a mesh identity: STRICT mTLS refuses plain text at the sidecar.
        p = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                            "http://127.0.0.11:18081/api/charge"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.stdout, "000")
        self.assertNotEqual(p.returncode, 0)
        # orders is allowed (allow-orders), the ingress gateway too; both over mTLS.
        self.assertEqual(http_get(mesh.url("orders-outbound", "/api/charge"), host=PAYMENTS_HOST)[0], 200)
        self.assertEqual(http_get(mesh.url("gateway-http", "/api/charge"), host=INGRESS_HOST)[0], 200)
        # A mesh identity allow-orders does not name: deny-all applies.
        intruder = local_mesh.Workload("intruder", "default", "intruder", "127.0.0.31", 0, {"app": "intruder"}, [])
        argv = mesh.proxy_argv("intruder", intruder.node_id, "default", intruder.labels, "intruder")
        argv += ["--listener-bind", "virtualInbound=none", "--listener-bind", "virtualOutbound=none",
                 "--outbound-bind", f"127.0.0.1:{mesh.ports['intruder-outbound']}=8080"]
        mesh.start_process("intruder", argv)
        try:
            answer = wait_for("the intruder's sidecar routing", lambda: (
                r := http_get(mesh.url("intruder-outbound", "/api/charge"), host=PAYMENTS_HOST))[0] in (403, 200) and r,
                log=lambda: mesh.log_tail("intruder"))
            self.assertEqual(answer, (403, "RBAC: access denied"))
            # The sidecar that refused it counts the denial on its admin /stats.
            denied = 0
            for w in ("payments-api-v1", "payments-api-v2"):
                _, stats = http_get(mesh.admin(w) + "/stats?filter=rbac.denied")
                denied += int(stats.split(":")[1]) if ":" in stats else 0
            self.assertGreaterEqual(denied, 1)
        finally:
            mesh.stop_process("intruder")
        # RequestAuthentication: a token that is not a JWT is refused; no token is allowed.
        status, _ = http_get(mesh.url("orders-outbound", "/api/charge"), host=PAYMENTS_HOST,
                             headers={"Authorization": "Bearer not-a-jwt"})
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
