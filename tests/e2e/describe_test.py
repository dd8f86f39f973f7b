#!/usr/bin/env python3
"""End-to-end tests of `meshctl describe pod|workload|service` on samples/: exact lines, -o json,
exit codes, and config read from a local mesh's store with -f files replacing its objects.

Usage: describe_test.py MESHCTL SOURCE_DIR   (run by CTest)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

MESHCTL = None
SRC = None

# No cluster and no local mesh unless a test sets one up.
ISOLATED_ENV = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
ISOLATED_ENV["KUBECONFIG"] = os.devnull
ISOLATED_ENV["MESH_HOME"] = os.path.join(tempfile.gettempdir(), f"meshctl-describe-no-mesh-{os.getpid()}")


def run(*args, env=None):
    p = subprocess.run([MESHCTL, *args], capture_output=True, timeout=60, env=env or ISOLATED_ENV)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def sample(name):
    return os.path.join(SRC, "samples", name)


class DescribePod(unittest.TestCase):
    def test_reviews_v1_in_bookinfo(self):
        code, out, err = run("describe", "pod", "reviews-v1-7d9f8c1b5-x1k2p", "-n", "bookinfo", "-f", sample("bookinfo"))
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), [
            "Pod: reviews-v1-7d9f8c1b5-x1k2p",
            "   Pod Revision: default",
            "   Pod Ports: 9080 (reviews)",
            "   Service Account: bookinfo-reviews",
            "   Labels: app=reviews, security.istio.io/tlsMode=istio, version=v1",
            "--------------------",
            "Service: reviews",
            "   Port: http 9080/HTTP targets pod port 9080",
            'DestinationRule: reviews for "reviews"',
            "   Matching subsets: v1",
            "      (Non-matching subsets v2)",
            "   Policies: connection pool/outlier detection",
            "   Connection pool: max 100 pending requests, max 10 requests per connection",
            "   Outlier detection: eject after 5 consecutive 5xx errors, every 10s, for 30s",
            "VirtualService: reviews",
            "   2 HTTP route(s)",
            '   Route to host "reviews" subset "v1" with weight 90% for (everything)',
            "   1 additional destination(s) that will not reach this pod",
            "--------------------",
            "Effective PeerAuthentication:",
            "   Workload mTLS mode: STRICT",
            "Applied PeerAuthentication:",
            "   default.bookinfo",
            "Applied AuthorizationPolicy:",
            "   reviews-viewer.bookinfo",
            "   ALLOW reviews-viewer.bookinfo: 1 rule(s)",
            "   Requests that no ALLOW rule matches are denied",
        ])

    def test_reviews_v2_header_route_and_name_dot_namespace(self):
        code, out, err = run("describe", "po", "reviews-v2-7d9f8c2b5-x2k2p.bookinfo", "-f", sample("bookinfo"))
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertIn("Pod: reviews-v2-7d9f8c2b5-x2k2p.bookinfo", lines)
        self.assertIn("VirtualService: reviews.bookinfo", lines)
        self.assertIn('   Route to host "reviews" subset "v2" for (Match: when headers are end-user=jason)', lines)
        self.assertIn('   Route to host "reviews" subset "v2" with weight 10% for (everything)', lines)

    def test_productpage_exposed_on_the_gateway(self):
        code, out, _ = run("describe", "pod", "productpage-v1-7d9f8c0b5-x0k2p", "-n", "bookinfo", "-f", sample("bookinfo"))
        self.assertEqual(code, 0)
        self.assertEqual(out.splitlines()[-5:], [
            "--------------------",
            "Exposed on Ingress Gateway http://bookinfo.example.com (Gateway bookinfo-gateway)",
            "VirtualService: productpage",
            "   1 HTTP route(s)",
            '   Route to host "productpage" for (Match: /productpage, Match: /static*)',
        ])

    def test_not_found_and_usage(self):
        code, out, err = run("describe", "pod", "nope", "-n", "bookinfo", "-f", sample("bookinfo"))
        self.assertEqual((code, out, err), (1, "", 'Error: pods "nope" not found\n'))
        code, _, err = run("describe", "service", "nope.bookinfo", "-f", sample("bookinfo"))
        self.assertEqual((code, err), (1, 'Error: services "nope" not found\n'))
        code, _, err = run("describe", "workload", "nope", "-f", sample("payments"))
        self.assertEqual((code, err), (1, 'Error: workloadentries.networking.istio.io "nope" not found\n'))
        self.assertEqual(run("describe", "pod")[0], 64)
        self.assertEqual(run("describe", "pod", "x", "-o", "yaml")[0], 64)
        self.assertEqual(run("describe", "deployment", "x")[0], 64)


class DescribeWorkloadAndService(unittest.TestCase):
    def test_payments_workload_entry(self):
        code, out, err = run("describe", "workload", "payments-api-v2", "-n", "payments", "-f", sample("payments"))
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        for line in [
            "WorkloadEntry: payments-api-v2",
            "   Address: 127.0.0.12",
            "   Workload Ports: 18082 (http)",
            'ServiceEntry: payments-api for "payments-api.payments.svc.cluster.local"',
            "   Port: http 8080/HTTP targets workload port 18082",
            "   Matching subsets: v2",
            "      (Non-matching subsets v1)",
            '   Route to host "payments-api.payments.svc.cluster.local" subset "v2" with weight 10% for (everything)',
            "   Workload mTLS mode: STRICT",
            "   allow-orders.payments, deny-all.payments",
            "   ALLOW deny-all.payments: no rules, matches no request",
            "Exposed on Ingress Gateway http://payments.example.com:8080 (Gateway ingress.istio-system)",
            "VirtualService: payments-ingress",
            '   Route to host "payments-api.payments.svc.cluster.local" for (Match: /api/*)',
        ]:
            self.assertIn(line, lines)
        self.assertNotIn("WARNING", out)

    def test_service_json_shape(self):
        code, out, err = run("describe", "svc", "reviews", "-n", "bookinfo", "-f", sample("bookinfo"), "-o", "json")
        self.assertEqual(code, 0, err)
        d = json.loads(out)
        self.assertEqual(list(d), ["kind", "name", "namespace", "workloads", "services", "peerAuthentication",
                                   "authorizationPolicies", "authorizationSummary", "warnings"])
        self.assertEqual((d["kind"], d["name"], d["namespace"]), ("service", "reviews", "bookinfo"))
        self.assertEqual([w["name"] for w in d["workloads"]], ["reviews-v1-7d9f8c1b5-x1k2p", "reviews-v2-7d9f8c2b5-x2k2p"])
        svc = d["services"][0]
        self.assertEqual(svc["host"], "reviews.bookinfo.svc.cluster.local")
        self.assertEqual(svc["destinationRule"]["matchingSubsets"], ["v1", "v2"])
        routes = svc["virtualServices"][0]["routes"]
        self.assertEqual([r["match"] for r in routes], ["Match: when headers are end-user=jason", "everything"])
        self.assertEqual([(x["subset"], x["weight"]) for x in routes[1]["destinations"]], [("v1", 90), ("v2", 10)])
        self.assertEqual(d["peerAuthentication"][0]["mode"], "STRICT")
        self.assertEqual(d["warnings"], [])

    def test_local_mesh_store_with_a_file_replacing_its_object(self):
        home = tempfile.mkdtemp(prefix="meshctl-describe-home-")
        try:
            shutil.copytree(sample("payments"), os.path.join(home, "config"))
            env = dict(ISOLATED_ENV, MESH_HOME=home)
            code, out, err = run("describe", "service", "payments-api.payments", env=env)
            self.assertEqual(code, 0, err)
            self.assertIn("VirtualService: payments-api.payments", out.splitlines())
            # The file's VirtualService replaces the store's: a subset no DestinationRule defines.
            vs = os.path.join(home, "vs.yaml")
            with open(vs, "w", encoding="utf-8") as f:
                f.write("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n"
                        "  name: payments-api\n  namespace: payments\nspec:\n"
                        "  hosts: [payments-api.payments.svc.cluster.local]\n"
                        "  http:\n  - route:\n    - destination:\n"
                        "        host: payments-api.payments.svc.cluster.local\n        subset: v9\n")
            code, out, err = run("describe", "service", "payments-api.payments", "-f", vs, env=env)
            self.assertEqual(code, 0, err)
            lines = out.splitlines()
            self.assertIn("   WARNING: Route to UNKNOWN subset v9; check DestinationRule payments-api.payments", lines)
            self.assertIn("   WARNING: No destinations reach this service (checked 1 HTTP routes)", lines)
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    MESHCTL, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
