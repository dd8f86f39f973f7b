"""meshproxy's certificates against a real meshd with its CA on (--ca), as Istio's pilot-agent and
Envoy's SDS give them: a sidecar started with the CA flags gets "default" (its SPIFFE identity,
valid now) and "ROOTCA" (meshd's root) and only then answers /healthz/ready; `meshctl
proxy-config secret --admin` shows both; the private key appears in no config_dump and no log.
A gateway (--type router) whose Gateway names a Secret of the config directory in
tls.credentialName receives it from meshd over SDS on the ADS stream (delta and state of the
world), with its "-cacert" companion for a MUTUAL server; a change to the Secret is pushed; the
key is redacted in both meshproxy's and meshd's dumps.

usage: meshproxy_sds_test.py MESHPROXY MESHD MESHCTL SOURCE_DIR
"""
import base64
import datetime
import json
import os
import shutil
import subprocess
import sys
import unittest

MESHPROXY, MESHD, MESHCTL, SOURCE_DIR = sys.argv[1:5]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import Meshd, Meshproxy, curl, free_port, http, start_backend, temp_processes, wait_for  # noqa: E402

SIDECAR_ID = "sidecar~127.0.0.1~orders-v1.orders~orders.svc.cluster.local"
GATEWAY_ID = "router~127.0.0.1~ingress-1.istio-system~istio-system.svc.cluster.local"
SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


def openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_server_cert(tmp, name):
    """A throwaway CA and a certificate for NAME.example.com it signed: (cert, key, ca) PEM text."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "ca-key.pem", "-out", "ca.pem", "-days", "1", "-subj", f"/CN={name}-ca")
    openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
            "-out", "cert.csr", "-subj", f"/CN={name}.example.com")
    openssl(d, "x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", "cert.pem", "-days", "1")
    def read(f):
        with open(os.path.join(d, f)) as pem:
            return pem.read()
    return read("cert.pem"), read("key.pem"), read("ca.pem")


def make_client_cert(tmp, ca_name, name):
    """A client certificate signed by the CA make_server_cert(tmp, ca_name) made: (cert, key) paths."""
    d = os.path.join(tmp, ca_name)
    openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}-key.pem",
            "-out", f"{name}.csr", "-subj", f"/CN={name}")
    openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "1")
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}-key.pem")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def key_body(pem):
    """The base64 lines of a PEM private key: what must never appear in dumps or logs."""
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


class MeshproxySds(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshproxy-sds-")
        self.config = os.path.join(self.tmp, "config")
        shutil.copytree(os.path.join(SOURCE_DIR, "samples", "payments"), self.config)
        self.ca_dir = os.path.join(self.tmp, "ca")
        self.ca = free_port()
        self.https_port, self.mtls_port = free_port(), free_port()
        self.shop = make_server_cert(self.tmp, "shop")
        self.mtls = make_server_cert(self.tmp, "mtls")
        self.backend = free_port()
        self.write_gateway(self.shop)
        self.meshd = Meshd(self.procs, MESHD, self.config,
                           "--ca", "--ca-dir", self.ca_dir, "--ca-address", f"127.0.0.1:{self.ca}").start()

    def write_gateway(self, shop):
        cert, key, _ = shop
        mcert, mkey, mca = self.mtls
        with open(os.path.join(self.config, "gateway-tls.yaml"), "w") as f:
            f.write(f"""apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: shop, namespace: istio-system}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: {self.https_port}, name: https, protocol: HTTPS}}
    hosts: [shop.example.com]
    tls: {{mode: SIMPLE, credentialName: shop-cert}}
  - port: {{number: {self.mtls_port}, name: https-mtls, protocol: HTTPS}}
    hosts: [mtls.example.com]
    tls: {{mode: MUTUAL, credentialName: mtls-cert}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: shop-backend, namespace: istio-system}}
spec:
  hosts: [shop-backend.internal]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{{number: {self.backend}, name: http, protocol: HTTP}}]
  endpoints: [{{address: 127.0.0.1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: shop, namespace: istio-system}}
spec:
  hosts: [shop.example.com, mtls.example.com]
  gateways: [shop]
  http:
  - route: [{{destination: {{host: shop-backend.internal, port: {{number: {self.backend}}}}}}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: shop-cert, namespace: istio-system}}
type: kubernetes.io/tls
data:
  tls.crt: {b64(cert)}
  tls.key: {b64(key)}
---
apiVersion: v1
kind: Secret
metadata: {{name: mtls-cert, namespace: istio-system}}
type: Opaque
stringData:
  cert: {json.dumps(mcert)}
  key: {json.dumps(mkey)}
  cacert: {json.dumps(mca)}
""")

    def start_proxy(self, name, node_id, *flags, ca=True, root_cert=None):
        """(admin, status) ports of a new meshproxy; with `ca`, it gets its certificate from meshd's
        CA, whose root it reads from root_cert (meshd's own root when None)."""
        if ca:
            flags += ("--ca-address", f"127.0.0.1:{self.ca}",
                      "--ca-root-cert", root_cert or os.path.join(self.ca_dir, "ca-cert.pem"),
                      "--ca-token-file", os.path.join(self.ca_dir, "token"))
        proxy = Meshproxy(self.procs, MESHPROXY, name, self.meshd.xds, node_id, "--prometheus-address", "",
                          "--log-level", "debug", *flags)
        return proxy.admin, proxy.status

    def dump(self, admin):
        status, body = http("GET", f"http://127.0.0.1:{admin}/config_dump")
        self.assertEqual(status, 200, body)
        return body

    def secrets(self, admin):
        for config in json.loads(self.dump(admin))["configs"]:
            if config["@type"].endswith("SecretsConfigDump"):
                return {s["name"]: s for s in config.get("dynamic_active_secrets", [])}
        self.fail("no SecretsConfigDump in the config dump")

    def meshctl(self, *args):
        p = subprocess.run([MESHCTL, *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def assert_never_leaked(self, key_pem, *texts):
        body = key_body(key_pem)
        for text in texts:
            self.assertNotIn(body, text)
            self.assertNotIn(body[:64], text)

    def test_sidecar_gets_default_and_rootca_from_the_ca(self):
        admin, status = self.start_proxy("sidecar", SIDECAR_ID, "--labels", "app=orders,version=v1",
                                         "--service-account", "orders")
        wait_for("sidecar /healthz/ready", lambda: http("GET", f"http://127.0.0.1:{status}/healthz/ready")[0] == 200,
                 log=lambda: self.procs.log_tail("sidecar", 40))
        secrets = self.secrets(admin)
        self.assertEqual(set(secrets), {"default", "ROOTCA"})
        default = secrets["default"]["secret"]["tls_certificate"]
        self.assertEqual(default["private_key"], {"inline_string": "[redacted]"})
        chain = base64.b64decode(default["certificate_chain"]["inline_bytes"]).decode()
        root = base64.b64decode(secrets["ROOTCA"]["secret"]["validation_context"]["trusted_ca"]["inline_bytes"]).decode()
        with open(os.path.join(self.ca_dir, "ca-cert.pem")) as f:
            self.assertEqual(root.strip(), f.read().strip())
        # The leaf really is for the workload's SPIFFE identity and valid now (openssl reads it).
        leaf = chain[:chain.index("-----END CERTIFICATE-----") + 25] + "\n"
        text = subprocess.run(["openssl", "x509", "-noout", "-text", "-dates"], input=leaf, capture_output=True,
                              text=True, check=True).stdout
        self.assertIn("URI:spiffe://cluster.local/ns/orders/sa/orders", text)

        out = self.meshctl("proxy-config", "secret", "--admin", f"http://127.0.0.1:{admin}")
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[:3], ["RESOURCE", "NAME", "TYPE"], out)
        rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
        self.assertIn("default", rows, out)
        self.assertIn("ROOTCA", rows, out)
        self.assertIn("Cert Chain", rows["default"])
        self.assertIn("ACTIVE", rows["default"])
        self.assertIn("true", rows["default"])  # VALID CERT
        self.assertIn("CA", rows["ROOTCA"])
        not_after = rows["default"].split()[-2]  # NOT AFTER, then NOT BEFORE
        self.assertGreater(datetime.datetime.fromisoformat(not_after.replace("Z", "+00:00")),
                           datetime.datetime.now(datetime.timezone.utc))

        # The key the sidecar holds is nowhere in the JSON dumps or the logs.
        key_dump = self.meshctl("proxy-config", "secret", "--admin", f"http://127.0.0.1:{admin}", "-o", "json")
        self.assertIn("[redacted]", key_dump)
        self.assertNotIn("PRIVATE KEY", self.dump(admin))
        self.assertNotIn("PRIVATE KEY", key_dump)
        for name in ("sidecar", "meshd"):
            with open(self.procs.log_path(name)) as f:
                self.assertNotIn("PRIVATE KEY", f.read())

    def test_sidecar_without_the_ca_is_ready_with_no_secrets(self):
        admin, status = self.start_proxy("plain", SIDECAR_ID, "--labels", "app=orders,version=v1", ca=False)
        wait_for("sidecar /healthz/ready", lambda: http("GET", f"http://127.0.0.1:{status}/healthz/ready")[0] == 200)
        self.assertEqual(self.secrets(admin), {})

    def test_sidecar_is_not_ready_while_the_ca_cannot_be_verified(self):
        bad_root = os.path.join(self.tmp, "shop", "ca.pem")  # not meshd's root
        admin, status = self.start_proxy("untrusting", SIDECAR_ID, root_cert=bad_root)
        wait_for("xDS applied", lambda: http("GET", f"http://127.0.0.1:{admin}/ready")[0] == 200)
        code, body = http("GET", f"http://127.0.0.1:{status}/healthz/ready")
        self.assertEqual(code, 503)
        self.assertIn("workload certificate", body)
        self.assertEqual(self.secrets(admin), {})

    def gateway_receives_credentials(self, *flags):
        admin, status = self.start_proxy("gateway", GATEWAY_ID, "--type", "router",
                                         "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                                         "--service-account", "istio-ingressgateway-service-account", *flags)
        wanted = {"default", "ROOTCA", "kubernetes://shop-cert", "kubernetes://mtls-cert",
                  "kubernetes://mtls-cert-cacert"}
        wait_for("the gateway's secrets", lambda: set(self.secrets(admin)) == wanted,
                 log=lambda: self.procs.log_tail("gateway", 40))
        wait_for("gateway /healthz/ready", lambda: http("GET", f"http://127.0.0.1:{status}/healthz/ready")[0] == 200)
        secrets = self.secrets(admin)
        shop = secrets["kubernetes://shop-cert"]["secret"]["tls_certificate"]
        self.assertEqual(base64.b64decode(shop["certificate_chain"]["inline_bytes"]).decode(), self.shop[0])
        self.assertEqual(shop["private_key"], {"inline_string": "[redacted]"})
        ca = secrets["kubernetes://mtls-cert-cacert"]["secret"]["validation_context"]["trusted_ca"]
        self.assertEqual(base64.b64decode(ca["inline_bytes"]).decode(), self.mtls[2])
        out = self.meshctl("proxy-config", "secret", "--admin", f"http://127.0.0.1:{admin}")
        self.assertIn("kubernetes://shop-cert", out)
        # meshd's own view of what it sent (the debug API's config dump) redacts the key too.
        meshd_view = self.meshctl("proxy-config", "secret", "ingress-1.istio-system",
                                  "--meshd", f"127.0.0.1:{self.meshd.debug}", "-o", "json")
        sent = {s["name"]: s["secret"] for s in json.loads(meshd_view)["dynamicActiveSecrets"]}
        self.assertEqual(set(sent), wanted - {"default", "ROOTCA"})
        self.assertEqual(base64.b64decode(sent["kubernetes://shop-cert"]["tlsCertificate"]["privateKey"]["inlineBytes"]),
                         b"[redacted]")

        # A new certificate in the Secret is pushed to the gateway.
        renewed = make_server_cert(self.tmp, "shop2")
        version = secrets["kubernetes://shop-cert"]["version_info"]
        self.write_gateway(renewed)
        wait_for("the renewed secret", lambda: self.secrets(admin)["kubernetes://shop-cert"]["version_info"] != version)
        shop = self.secrets(admin)["kubernetes://shop-cert"]["secret"]["tls_certificate"]
        self.assertEqual(base64.b64decode(shop["certificate_chain"]["inline_bytes"]).decode(), renewed[0])

        dumps = self.dump(admin) + out + meshd_view
        with open(self.procs.log_path("gateway")) as f:
            gateway_log = f.read()
        with open(self.procs.log_path("meshd")) as f:
            meshd_log = f.read()
        for key in (self.shop[1], self.mtls[1], renewed[1]):
            self.assert_never_leaked(key, dumps, gateway_log, meshd_log)
        self.assertNotIn("PRIVATE KEY", dumps + gateway_log + meshd_log)

    def test_gateway_terminates_tls_with_the_credentials(self):
        start_backend(self.procs, "backend", self.backend)
        admin, status = self.start_proxy("gateway", GATEWAY_ID, "--type", "router",
                                         "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                                         "--service-account", "istio-ingressgateway-service-account")
        shop_ca = os.path.join(self.tmp, "shop", "ca.pem")
        shop_url = f"https://shop.example.com:{self.https_port}/checkout"
        resolve = ["--resolve", f"shop.example.com:{self.https_port}:127.0.0.1",
                   "--resolve", f"mtls.example.com:{self.mtls_port}:127.0.0.1",
                   "--resolve", f"other.example.com:{self.https_port}:127.0.0.1"]
        wait_for("HTTPS through the gateway", lambda: curl(shop_url, "--cacert", shop_ca, *resolve)[0] == 200,
                 log=lambda: self.procs.log_tail("gateway", 40))
        # SIMPLE: the Secret's certificate for its host, verified by the client; ALPN picks HTTP/2.
        code, head, body = curl(shop_url, "--cacert", shop_ca, "--http2", *resolve)
        self.assertEqual(code, 200)
        self.assertTrue(head.startswith("http/2 200"), head)
        self.assertEqual(json.loads(body)["x-forwarded-proto"], "https")
        # A name no server declares matches no filter chain: the handshake is refused.
        self.assertEqual(curl(f"https://other.example.com:{self.https_port}/", "-k", *resolve)[0], 0)
        # MUTUAL: a client certificate signed by the Secret's CA is required.
        mtls_url = f"https://mtls.example.com:{self.mtls_port}/checkout"
        mtls_ca = os.path.join(self.tmp, "mtls", "ca.pem")
        self.assertEqual(curl(mtls_url, "--cacert", mtls_ca, *resolve)[0], 0)
        cert, key = make_client_cert(self.tmp, "mtls", "client")
        self.assertEqual(curl(mtls_url, "--cacert", mtls_ca, "--cert", cert, "--key", key, *resolve)[0], 200)
        stranger_cert, stranger_key = make_client_cert(self.tmp, "shop", "stranger")  # another CA's client
        self.assertEqual(curl(mtls_url, "--cacert", mtls_ca, "--cert", stranger_cert, "--key", stranger_key,
                              *resolve)[0], 0)
        # The gateway kept serving through the refused handshakes.
        self.assertEqual(curl(shop_url, "--cacert", shop_ca, *resolve)[0], 200)

    def test_gateway_receives_credential_secrets_over_delta_sds(self):
        self.gateway_receives_credentials()

    def test_gateway_receives_credential_secrets_over_sotw_sds(self):
        self.gateway_receives_credentials("--xds-sotw")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
