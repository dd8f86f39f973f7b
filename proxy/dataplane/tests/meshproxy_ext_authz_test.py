"""meshproxy enforcing an AuthorizationPolicy CUSTOM from a real meshd: an ingress gateway whose
CUSTOM policy on /api/admin* arrives as meshd emits it (RBAC shadow rules tagging the requests,
then envoy.filters.http.ext_authz with filter_enabled_metadata and an http_service to the
provider's cluster). The provider is declared as in Istio: an envoyExtAuthzHttp entry of the
MeshConfig's extensionProviders (the `istio` ConfigMap of istio-system) naming the authorization
service (a ServiceEntry with an HTTP port). The authorization server here denies requests with
"Authorization: deny" and logs every path it is asked about.

usage: meshproxy_ext_authz_test.py MESHPROXY MESHD SOURCE_DIR
"""
import os
import sys
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (Meshd, Meshproxy, curl, free_port, gateway_yaml, json_lines,  # noqa: E402
                     service_yaml, start_backend, temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "samples.edge.svc.cluster.local"
AUTHZ = "authz.edge.svc.cluster.local"

# An HTTP authorization server: 403 "denied by authz" when the check carries "Authorization: deny"
# (meshd sets no allowed_headers: only Envoy's defaults reach the server), else 200;
# each checked path is appended to argv[2].
_AUTHZ_SERVER = """
import http.server, sys
LOG = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("content-length") or 0)
        if n:
            self.rfile.read(n)
        with open(LOG, "a") as f:
            f.write(self.path + "\\n")
        denied = self.headers.get("authorization") == "deny"
        body = b"denied by authz" if denied else b""
        self.send_response(403 if denied else 200)
        self.send_header("x-authz-verdict", "deny" if denied else "allow")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class MeshproxyExtAuthz(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshproxy-ext-authz-")
        self.gw_port, self.backend_port, self.authz_port = free_port(), free_port(), free_port()
        self.checks = os.path.join(self.tmp, "checks.log")
        self.access_log = os.path.join(self.tmp, "access.log")
        config = write_config(
            os.path.join(self.tmp, "config"), service_yaml("samples", "edge", self.backend_port),
            service_yaml("authz", "edge", self.authz_port),
            gateway_yaml(self.gw_port, "samples.example.com", [("/api", SERVICE)]), f"""\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: ext, namespace: istio-system}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  action: CUSTOM
  provider: {{name: ext-authz-http}}
  rules: [{{to: [{{operation: {{paths: ["/api/admin*"]}}}}]}}]
""", f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: istio, namespace: istio-system}}
data:
  mesh: |-
    extensionProviders:
    - name: ext-authz-http
      envoyExtAuthzHttp: {{service: "{AUTHZ}", port: 80}}
""")
        start_backend(self.procs, "backend", self.backend_port, reply="path")
        self.procs.start("authz", [sys.executable, "-c", _AUTHZ_SERVER, str(self.authz_port), self.checks])
        meshd = Meshd(self.procs, MESHD, config).start()
        Meshproxy(self.procs, MESHPROXY, "meshproxy", meshd.xds, NODE_ID, "--type", "router",
                  "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                  "--service-account", "istio-ingressgateway-service-account",
                  "--access-log", self.access_log, "--access-log-encoding", "JSON")

    def curl(self, path, *args):
        return curl(f"http://127.0.0.1:{self.gw_port}{path}", *args, host="samples.example.com")

    def checked(self):
        try:
            with open(self.checks) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def test_custom_policy_from_meshd(self):
        # The gateway serves only once meshd's listener (with ext_authz) is ACKed.
        wait_for("the gateway serving /api/public", lambda: self.curl("/api/public")[0] == 200)
        code, _, body = self.curl("/api/public/x", "-H", "Authorization: deny")
        self.assertEqual((code, body), (200, "ok /api/public/x"))  # not selected: never checked
        self.assertEqual(self.checked(), [])

        code, _, body = self.curl("/api/admin/users?q=1")
        self.assertEqual((code, body), (200, "ok /api/admin/users?q=1"))
        code, head, body = self.curl("/api/admin/users", "-H", "Authorization: deny", "-H", "x-other: 1")
        self.assertEqual((code, body), (403, "denied by authz"))
        self.assertIn("x-authz-verdict: deny", head)
        self.assertEqual(self.checked(), ["/api/admin/users?q=1", "/api/admin/users"])

        # The denial is logged as Envoy logs ext_authz's: UAEX, ext_authz_denied, no upstream.
        denied = wait_for("the denial in the access log",
                          lambda: [l for l in json_lines(self.access_log) if l["response_code"] == 403])
        self.assertEqual(denied[0]["response_flags"], "UAEX")
        self.assertEqual(denied[0]["response_code_details"], "ext_authz_denied")
        self.assertIsNone(denied[0]["upstream_cluster"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
