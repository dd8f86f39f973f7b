"""meshproxy enforcing Istio security config from a real meshd: an ingress gateway whose
RequestAuthentication (inline JWKS, outputPayloadToHeader) and AuthorizationPolicies (DENY on
DELETE, ALLOW public paths to anyone and private ones to one request principal) arrive as
jwt_authn and RBAC filters; curl sees 200 / 401 / 403 with Envoy's texts, the backend sees the
verified payload, and the access log names the RBAC denial. Tokens are signed with openssl.

usage: meshproxy_authz_test.py MESHPROXY MESHD SOURCE_DIR
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import Processes, free_port, http, wait_for  # noqa: E402  (process plumbing shared with interop)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "samples.edge.svc.cluster.local"
ISSUER = "https://issuer.example.com"

# Answers with the request's headers as JSON, so the test sees what the proxy forwarded.
BACKEND = """
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    """An RSA key made by openssl, its JWKS, and RS256 tokens signed with it."""

    def __init__(self, tmp):
        self.pem = os.path.join(tmp, "jwt-key.pem")
        subprocess.run(["openssl", "genrsa", "-out", self.pem, "2048"], check=True, capture_output=True)
        modulus = subprocess.run(["openssl", "rsa", "-in", self.pem, "-noout", "-modulus"], check=True,
                                 capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        self.jwks = json.dumps({"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "e": "AQAB",
                                          "n": b64url(bytes.fromhex(modulus))}]})

    def token(self, sub, exp_in=3600):
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
        payload = b64url(json.dumps({"iss": ISSUER, "sub": sub, "aud": "samples",
                                     "exp": int(time.time()) + exp_in}).encode())
        signing_input = f"{header}.{payload}".encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.pem], input=signing_input, check=True,
                             capture_output=True).stdout
        return f"{header}.{payload}.{b64url(sig)}"


class MeshproxyAuthz(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="meshproxy-authz-")
        self.procs = Processes(self.tmp)
        self.config = os.path.join(self.tmp, "config")
        os.makedirs(self.config)
        self.signer = Signer(self.tmp)
        self.xds, self.mon, self.debug = free_port(), free_port(), free_port()
        self.admin, self.status = free_port(), free_port()
        self.gw_port, self.backend_port = free_port(), free_port()
        self.access_log = os.path.join(self.tmp, "access.log")
        with open(os.path.join(self.config, "edge.yaml"), "w") as f:
            f.write(f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: samples, namespace: edge}}
spec:
  hosts: [{SERVICE}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP}}]
  endpoints: [{{address: 127.0.0.1, ports: {{http: {self.backend_port}}}}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: edge, namespace: edge}}
spec:
  selector: {{istio: ingressgateway}}
  servers: [{{port: {{number: {self.gw_port}, name: http, protocol: HTTP}}, hosts: [samples.example.com]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: edge, namespace: edge}}
spec:
  hosts: [samples.example.com]
  gateways: [edge]
  http: [{{match: [{{uri: {{prefix: /api}}}}], route: [{{destination: {{host: {SERVICE}, port: {{number: 80}}}}}}]}}]
---
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
        self.procs.start("backend", [sys.executable, "-c", BACKEND, str(self.backend_port)])
        self.procs.start("meshd", [
            MESHD, "--config-dir", self.config, "--xds-address", f"127.0.0.1:{self.xds}",
            "--monitoring-address", f"127.0.0.1:{self.mon}", "--debug-address", f"127.0.0.1:{self.debug}",
            "--debounce", "50ms"])
        wait_for("meshd /ready", lambda: http("GET", f"http://127.0.0.1:{self.mon}/ready")[0] == 200)
        self.procs.start("meshproxy", [
            MESHPROXY, "--type", "router", "--xds-address", f"127.0.0.1:{self.xds}", "--id", NODE_ID,
            "--labels", "istio=ingressgateway,app=istio-ingressgateway",
            "--service-account", "istio-ingressgateway-service-account",
            "--admin-address", f"127.0.0.1:{self.admin}", "--status-address", f"127.0.0.1:{self.status}",
            "--access-log", self.access_log, "--access-log-encoding", "JSON"])

    def tearDown(self):
        self.procs.stop_all()
        if os.environ.get("KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def curl(self, path, *args, token=None):
        argv = ["curl", "-s", "-m", "5", "-H", "Host: samples.example.com", "-D", "-", "-w", "\n%{http_code}"]
        if token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        out = subprocess.run(argv + list(args) + [f"http://127.0.0.1:{self.gw_port}{path}"], capture_output=True,
                             text=True, timeout=10).stdout
        rest, _, code = out.rpartition("\n")
        head, _, body = rest.partition("\n\n")  # text mode: CRLF arrives as "\n"
        return int(code or 0), head.lower(), body

    def log_lines(self):
        try:
            with open(self.access_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def test_jwt_and_rbac_from_meshd(self):
        # The gateway serves at all only once meshd's listener (with its security filters) is ACKed.
        wait_for("the gateway serving /api/public", lambda: self.curl("/api/public/ping")[0] == 200)

        code, _, body = self.curl("/api/private/report")
        self.assertEqual((code, body), (403, "RBAC: access denied"))
        alice = self.signer.token("alice")
        code, _, body = self.curl("/api/private/report", token=alice)
        self.assertEqual(code, 200, body)
        seen = json.loads(body)
        self.assertEqual(seen["x-jwt-payload"], alice.split(".")[1])
        self.assertNotIn("authorization", seen)  # forwardOriginalToken is false
        code, _, body = self.curl("/api/private/report", token=self.signer.token("bob"))
        self.assertEqual((code, body), (403, "RBAC: access denied"))

        code, head, body = self.curl("/api/public/x", token=self.signer.token("alice", exp_in=-3600))
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
