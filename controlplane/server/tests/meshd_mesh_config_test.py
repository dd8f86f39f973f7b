"""meshd's MeshConfig end to end: a real meshd on a config directory holding the `istio`
ConfigMap (namespace istio-system, key `mesh`) whose extensionProviders declare the ext_authz
provider of a CUSTOM AuthorizationPolicy, and a meshproxy gateway taking its listeners. Checked
with `meshctl proxy-config listener ... -o json` against meshd's debug API: the ext_authz filter
as Istio builds it; a live edit of the ConfigMap (a new timeout, then a provider the policy does
not name: deny all); a bad edit (reported with file, line and field, the last good kept); and a
bad --meshConfig file at startup (exit 65 naming file, line and field).

usage: meshd_mesh_config_test.py MESHD MESHPROXY MESHCTL SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import unittest

MESHD, MESHPROXY, MESHCTL, SOURCE_DIR = sys.argv[1:5]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (Meshd, Meshproxy, free_port, gateway_yaml, service_yaml, temp_processes,  # noqa: E402
                     wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
PROXY = "istio-ingressgateway-0.istio-system"
AUTHZ = "authz.edge.svc.cluster.local"

POLICY = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: CUSTOM
  provider: {name: my-ext-authz}
  rules: [{to: [{operation: {paths: ["/api/admin*"]}}]}]
"""


def config_map(provider_name, timeout, port=80):
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: istio, namespace: istio-system}}
data:
  mesh: |-
    rootNamespace: istio-system
    extensionProviders:
    - name: {provider_name}
      envoyExtAuthzHttp:
        service: {AUTHZ}
        port: {port}
        timeout: {timeout}
        includeRequestHeadersInCheck: [authorization, "x-user-*"]
        headersToUpstreamOnAllow: [x-user-id]
"""


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


class MeshdMeshConfig(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshd-mesh-config-")
        self.config = write_config(
            os.path.join(self.tmp, "config"), service_yaml("samples", "edge", free_port()),
            service_yaml("authz", "edge", free_port()),
            gateway_yaml(free_port(), "samples.example.com", [("/api", "samples.edge.svc.cluster.local")]), POLICY)
        self.mesh_file = os.path.join(self.config, "istio.yaml")
        write_atomically(self.mesh_file, config_map("my-ext-authz", "3s"))

    def start(self, *flags):
        self.meshd = Meshd(self.procs, MESHD, self.config, *flags).start()
        Meshproxy(self.procs, MESHPROXY, "meshproxy", self.meshd.xds, NODE_ID, "--type", "router",
                  "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                  "--service-account", "istio-ingressgateway-service-account")

    def http_filters(self):
        """name → typed_config of the HTTP filters on the gateway's listener, as meshd intends them."""
        out = subprocess.run([MESHCTL, "proxy-config", "listener", PROXY, "--meshd", f"127.0.0.1:{self.meshd.debug}",
                              "-o", "json"], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            return {}
        filters = {}
        for listener in json.loads(out.stdout):
            for chain in listener.get("filterChains", []):
                for f in chain.get("filters", []):
                    for h in f.get("typedConfig", {}).get("httpFilters", []):
                        filters.setdefault(h["name"], h.get("typedConfig", {}))
        return filters

    def ext_authz(self):
        return self.http_filters().get("envoy.filters.http.ext_authz")

    def test_configmap_provider_live_changes(self):
        self.start()
        ext = wait_for("the ext_authz filter from the ConfigMap's provider", self.ext_authz,
                       log=lambda: self.procs.log_tail("meshd"))
        service = ext["httpService"]
        self.assertEqual(service["serverUri"], {"uri": f"http://{AUTHZ}", "cluster": f"outbound|80||{AUTHZ}",
                                                "timeout": "3s"})
        self.assertEqual(service["authorizationResponse"]["allowedUpstreamHeaders"],
                         {"patterns": [{"exact": "x-user-id", "ignoreCase": True}]})
        self.assertEqual(ext["allowedHeaders"], {"patterns": [{"exact": "authorization", "ignoreCase": True},
                                                              {"prefix": "x-user-", "ignoreCase": True}]})
        self.assertEqual(ext["transportApiVersion"], "V3")

        # A live edit: a new timeout reaches the proxy's config.
        write_atomically(self.mesh_file, config_map("my-ext-authz", "5s"))
        wait_for("the new timeout", lambda: (self.ext_authz() or {}).get("httpService", {})
                 .get("serverUri", {}).get("timeout") == "5s", log=lambda: self.procs.log_tail("meshd"))

        # A bad edit: reported with file, line and field; the last good MeshConfig stays.
        write_atomically(self.mesh_file, config_map("my-ext-authz", "7s", port=0))
        wait_for("the bad MeshConfig reported", lambda: "istio.yaml:11:0: data.mesh: extensionProviders[0]"
                 ".envoyExtAuthzHttp.port: port must be in the range [1, 65535], found: 0"
                 in self.procs.log_tail("meshd", 50))
        self.assertEqual(self.ext_authz()["httpService"]["serverUri"]["timeout"], "5s")

        # The policy's provider gone from the MeshConfig: Istio's deny-all for a bad CUSTOM action.
        write_atomically(self.mesh_file, config_map("another-provider", "5s"))

        def denied():
            f = self.http_filters()
            rules = f.get("envoy.filters.http.rbac", {}).get("rules", {})
            return "envoy.filters.http.ext_authz" not in f and \
                "default-deny-all-due-to-bad-CUSTOM-action" in rules.get("policies", {})
        wait_for("deny-all for the unknown provider", denied, log=lambda: self.procs.log_tail("meshd"))
        wait_for("the unknown provider logged", lambda: 'extension provider "my-ext-authz" is not in the MeshConfig'
                 in self.procs.log_tail("meshd", 50))

    def test_mesh_config_file_wins_and_bad_file_fails_startup(self):
        mesh = os.path.join(self.tmp, "mesh.yaml")
        write_atomically(mesh, f"extensionProviders:\n- name: my-ext-authz\n  envoyExtAuthzGrpc:\n"
                               f"    service: {AUTHZ}\n    port: 9000\n")
        self.start("--meshConfig", mesh)
        ext = wait_for("the gRPC ext_authz filter from the file", self.ext_authz,
                       log=lambda: self.procs.log_tail("meshd"))
        self.assertEqual(ext["grpcService"], {"envoyGrpc": {"clusterName": f"outbound|9000||{AUTHZ}",
                                                            "authority": AUTHZ}, "timeout": "600s"})

        bad = os.path.join(self.tmp, "bad.yaml")
        write_atomically(bad, "extensionProviders:\n- name: x\n  envoyExtAuthzGrpc: {service: a.b, port: 99999}\n")
        out = subprocess.run([MESHD, "--config-dir", self.config, "--mesh-config", bad, "--xds-address",
                              f"127.0.0.1:{free_port()}", "--monitoring-address", f"127.0.0.1:{free_port()}",
                              "--debug-address", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 65, out.stderr)
        self.assertIn(f"{bad}:3:43: extensionProviders[0].envoyExtAuthzGrpc.port: port must be in the range", out.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
