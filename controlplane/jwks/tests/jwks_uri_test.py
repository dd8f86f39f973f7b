"""RequestAuthentication keys fetched by meshd, end to end: a JWKS served over HTTP on loopback,
meshd (with a short --jwks-refresh) fetching it for a jwksUri rule and through OpenID discovery
for an issuer-only rule, and a meshproxy gateway verifying RS256 tokens signed with openssl
against the keys it got inline. A rotated JWKS is picked up after a refresh; a rule whose keys
cannot be fetched rejects its tokens while requests without a token still pass.

usage: jwks_uri_test.py MESHPROXY MESHD SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import unittest

MESHPROXY, MESHD, SOURCE_DIR = sys.argv[1:4]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (JwtSigner, Meshd, Meshproxy, curl, free_port, gateway_yaml, http, service_yaml,  # noqa: E402
                     start_backend, temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "samples.edge.svc.cluster.local"
URI_ISSUER = "https://uri.example.com"
DOWN_ISSUER = "https://down.example.com"



def serve(directory, name, content):
    """Replaces DIRECTORY/NAME at once, so the key server never serves half a file."""
    path = os.path.join(directory, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(content)
    os.replace(path + ".tmp", path)


class JwksUri(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshd-jwks-")
        self.first, self.second, self.discovered = (JwtSigner(self.tmp, kid) for kid in ("first", "second", "disc"))
        self.gw_port, self.backend_port, self.keys_port = free_port(), free_port(), free_port()
        self.keys_dir = os.path.join(self.tmp, "keys")
        self.keys_url = f"http://127.0.0.1:{self.keys_port}"
        serve(self.keys_dir, "jwks.json", self.first.jwks)
        serve(self.keys_dir, ".well-known/openid-configuration",
              json.dumps({"issuer": self.keys_url, "jwks_uri": f"{self.keys_url}/issuer-keys.json"}))
        serve(self.keys_dir, "issuer-keys.json", self.discovered.jwks)
        self.procs.start("keys", [sys.executable, "-m", "http.server", str(self.keys_port), "--bind", "127.0.0.1",
                                  "--directory", self.keys_dir])
        wait_for("the key server", lambda: http("GET", f"{self.keys_url}/jwks.json")[0] == 200)
        config = write_config(
            os.path.join(self.tmp, "config"), service_yaml("samples", "edge", self.backend_port),
            gateway_yaml(self.gw_port, "samples.example.com", [("/api", SERVICE)]), f"""\
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {{name: jwt, namespace: istio-system}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  jwtRules:
  - issuer: "{URI_ISSUER}"
    jwksUri: "{self.keys_url}/jwks.json"
  - issuer: "{self.keys_url}"
  - issuer: "{DOWN_ISSUER}"
    jwksUri: "http://127.0.0.1:{free_port()}/jwks.json"
""")
        start_backend(self.procs, "backend", self.backend_port, reply="path")
        self.meshd = Meshd(self.procs, MESHD, config, "--jwks-refresh", "1s", "--jwks-fetch-timeout", "2s").start()
        Meshproxy(self.procs, MESHPROXY, "meshproxy", self.meshd.xds, NODE_ID, "--type", "router",
                  "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                  "--service-account", "istio-ingressgateway-service-account")
        wait_for("the gateway serving /api without a token", lambda: self.status() == 200,
                 log=lambda: self.procs.log_tail("meshd"))

    def status(self, token=None):
        args = ("-H", f"Authorization: Bearer {token}") if token else ()
        return curl(f"http://127.0.0.1:{self.gw_port}/api/x", *args, host="samples.example.com")[0]

    def wait_status(self, what, token, status):
        wait_for(f"{what} → {status}", lambda: self.status(token) == status, log=lambda: self.procs.log_tail("meshd"))

    def test_jwks_uri_keys_and_rotation(self):
        first = self.first.token(URI_ISSUER, "alice")
        # meshd fetched the new jwksUri's keys before its first push, as istiod does: the
        # gateway's first config already verifies the token.
        self.assertEqual(self.status(first), 200)
        # Signed with another key under the served key's id: the signature does not verify.
        self.assertEqual(self.status(self.second.token(URI_ISSUER, "mallory", kid="first")), 401)
        second = self.second.token(URI_ISSUER, "bob")
        self.assertEqual(self.status(second), 401)

        serve(self.keys_dir, "jwks.json", self.second.jwks)
        self.wait_status("a token of the rotated-in key", second, 200)
        self.assertEqual(self.status(first), 401)
        self.assertEqual(self.status(), 200)

    def test_issuer_discovery_and_unreachable_keys_fail_closed(self):
        self.wait_status("a token of the discovered issuer", self.discovered.token(self.keys_url, "carol"), 200)
        # Its keys can never be fetched: its tokens are rejected, the listener still serves.
        self.assertEqual(self.status(self.first.token(DOWN_ISSUER, "dave", kid="first")), 401)
        self.assertEqual(self.status(), 200)
        # Keys are per source: the discovered issuer's key does not verify the jwksUri issuer's tokens.
        self.assertEqual(self.status(self.discovered.token(URI_ISSUER, "erin")), 401)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
