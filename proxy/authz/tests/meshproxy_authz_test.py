"""meshproxy enforcing Istio security config from a real meshd: an ingress gateway whose
RequestAuthentication (inline JWKS, outputPayloadToHeader) and AuthorizationPolicies (DENY on
DELETE, ALLOW public paths to anyone and private ones to one request principal) arrive as
jwt_authn and RBAC filters; curl sees 200 / 401 / 403 with Envoy's texts, the backend sees the
verified payload, and the access log names the RBAC denial. Tokens are signed with openssl.

usage: meshproxy_authz_test.py MESHPROXY MESHD SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (JwtSigner, Meshd, Meshproxy, curl, free_port, gateway_yaml, json_lines,  # noqa: E402
                     service_yaml, start_backend, temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "samples.edge.svc.cluster.local"
ISSUER = "https://issuer.example.com"



class MeshproxyAuthz(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshproxy-authz-")
        self.signer = JwtSigner(self.tmp)
        self.gw_port, self.backend_port = free_port(), free_port()
        self.access_log = os.path.join(self.tmp, "access.log")
        config = write_config(
            os.path.join(self.tmp, "config"), service_yaml("samples", "edge", self.backend_port),
            gateway_yaml(self.gw_port, "samples.example.com", [("/api", SERVICE)]), f"""\
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {{name: jwt, namespace: istio-system}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  jwtRules:
  - issuer: "{ISSUER}"
    audiences: [samples]
    jwks: '{self.signer.jwks}'
    outputPayloadToHeader: x-jwt-payload
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: no-delete, namespace: istio-system}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  action: DENY
  rules: [{{to: [{{operation: {{methods: [DELETE]}}}}]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: access, namespace: istio-system}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  action: ALLOW
  rules:
  - to: [{{operation: {{paths: ["/api/public*"]}}}}]
  - from: [{{source: {{requestPrincipals: ["{ISSUER}/alice"]}}}}]
    to: [{{operation: {{paths: ["/api/private*"]}}}}]
""")
        # Answers with the request's headers as JSON, so the test sees what the proxy forwarded.
        start_backend(self.procs, "backend", self.backend_port)
        meshd = Meshd(self.procs, MESHD, config).start()
        Meshproxy(self.procs, MESHPROXY, "meshproxy", meshd.xds, NODE_ID, "--type", "router",
                  "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                  "--service-account", "istio-ingressgateway-service-account",
                  "--access-log", self.access_log, "--access-log-encoding", "JSON")

    def curl(self, path, *args, token=None):
        if token:
            args = ("-H", f"Authorization: Bearer {token}", *args)
        return curl(f"http://127.0.0.1:{self.gw_port}{path}", *args, host="samples.example.com")

    def log_lines(self):
        return json_lines(self.access_log)

    def test_jwt_and_rbac_from_meshd(self):
        # The gateway serves at all only once meshd's listener (with its security filters) is ACKed.
        wait_for("the gateway serving /api/public", lambda: self.curl("/api/public/ping")[0] == 200)

        code, _, body = self.curl("/api/private/report")
        self.assertEqual((code, body), (403, "RBAC: access denied"))
        alice = self.signer.token(ISSUER, "alice", aud="samples")
        code, _, body = self.curl("/api/private/report", token=alice)
        self.assertEqual(code, 200, body)
        seen = json.loads(body)
        self.assertEqual(seen["x-jwt-payload"], alice.split(".")[1])
        self.assertNotIn("authorization", seen)  # forwardOriginalToken is false
        code, _, body = self.curl("/api/private/report", token=self.signer.token(ISSUER, "bob", aud="samples"))
        self.assertEqual((code, body), (403, "RBAC: access denied"))

        code, head, body = self.curl("/api/public/x", token=self.signer.token(ISSUER, "alice", aud="samples", exp_in=-3600))
        self.assertEqual((code, body), (401, "Jwt is expired"))
        self.assertIn('www-authenticate: bearer realm="http://samples.example.com/api/public/x", '
                      'error="invalid_token"', head)
        forged = alice[:-6] + ("AAAAAA" if not alice.endswith("AAAAAA") else "BBBBBB")
        self.assertEqual(self.curl("/api/public/x", token=forged)[::2], (401, "Jwt verification fails"))
        self.assertEqual(self.curl("/api/public/x", "-X", "DELETE")[::2], (403, "RBAC: access denied"))

        denied = wait_for("the DELETE in the access log",
                          lambda: [l for l in self.log_lines() if l["method"] == "DELETE"])
        self.assertEqual(denied[0]["response_code"], 403)
        self.assertEqual(denied[0]["response_code_details"],
                         "rbac_access_denied_matched_policy[ns[istio-system]-policy[no-delete]-rule[0]]")
        self.assertIsNone(denied[0]["upstream_cluster"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
