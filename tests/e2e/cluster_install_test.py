#!/usr/bin/env python3
"""meshctl install / verify-install / uninstall against a Kubernetes cluster: the test API
server (tests/kube_apiserver) over TLS with a bearer token and --auto-ready, a kubeconfig, and
the real kubectl to look at what meshctl left there. Each case has its own server. Covers
install, re-install (a no-op), verify-install, healing a deleted Deployment, a plan and prompt
and --dry-run that change nothing, RBAC 403s, a persistent 500 and a stalled request mid-install
(clear error, partial state named, re-run heals), and uninstall with and without --purge.

Usage: cluster_install_test.py MESHCTL SOURCE_DIR
"""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_certs import make_certs  # noqa: E402

MESHCTL = SOURCE = None
TMP = None

# The minimal profile (Istio core + meshd) without the HorizontalPodAutoscaler, a kind the test
# server does not serve; short timeouts so that failures come quickly.
INSTALL = ["-p", "minimal", "--set", "values.pilot.autoscaleEnabled=false", "--readiness-timeout", "10s",
           "--request-timeout", "2s"]
CRD = "virtualservices.networking.istio.io"



def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class Cluster:
    """One test API server and a kubeconfig for it (context "mesh")."""
    count = 0

    def __init__(self, *flags):
        Cluster.count += 1
        self.dir = os.path.join(TMP, f"c{Cluster.count}")
        os.makedirs(self.dir)
        ready = os.path.join(self.dir, "url")
        self.log = open(os.path.join(self.dir, "apiserver.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(SOURCE, "tests/kube_apiserver/kube_apiserver.py"), "--listen", "127.0.0.1:0",
             "--ready-file", ready, "--token", "mesh-token", "--tls-cert", os.path.join(TMP, "server.pem"),
             "--tls-key", os.path.join(TMP, "server-key.pem"), "--auto-ready", "--finalize-delay-ms", "0", *flags],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 20
        while not (os.path.exists(ready) and read(ready)):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("the test API server did not start")
            time.sleep(0.05)
        self.url = read(ready)
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{self.url}", certificate-authority: {os.path.join(TMP, "ca.pem")}}}
users:
- name: mesh
  user: {{token: mesh-token}}
contexts:
- name: mesh
  context: {{cluster: test, user: mesh}}
current-context: mesh
""")
        self.env = {k: v for k, v in os.environ.items() if k not in ("KUBERNETES_SERVICE_HOST",)}
        self.env.update(KUBECONFIG=self.kubeconfig, HOME=self.dir, MESH_HOME=os.path.join(self.dir, "mesh-home"))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def meshctl(self, *args, stdin="", timeout=60):
        p = subprocess.run([MESHCTL, *args], input=stdin, env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def kubectl(self, *args):
        return subprocess.run(["kubectl", *args], env=self.env, capture_output=True, text=True, timeout=30)

    def get(self, *args):
        """The object as JSON, or None when it is NotFound."""
        p = self.kubectl("get", *args, "-o", "json")
        if p.returncode != 0:
            if "NotFound" in p.stderr or "not found" in p.stderr:
                return None
            raise AssertionError(p.stderr)
        return json.loads(p.stdout)

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = ssl.create_default_context(cafile=os.path.join(TMP, "ca.pem"))
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            return r.read()


class ClusterInstallTest(unittest.TestCase):
    def setUp(self):
        self.clusters = []

    def tearDown(self):
        for c in self.clusters:
            c.stop()

    def cluster(self, *flags):
        c = Cluster(*flags)
        self.clusters.append(c)
        return c

    def install(self, c, *extra):
        return c.meshctl("install", "-y", *INSTALL, *extra)

    def assertInstalled(self, c, code, out, err):
        self.assertEqual(code, 0, out + err)
        self.assertIn("✔ Istio core installed", out)
        self.assertIn("✔ meshd installed", out)
        self.assertIn("✔ Installation complete", out)
        self.assertNotIn("✘", out)

    def test_install_reinstall_verify_and_heal(self):
        c = self.cluster()
        code, out, err = self.install(c)
        self.assertInstalled(c, code, out, err)
        crd = c.get("crd", CRD)
        self.assertIn({"type": "Established", "status": "True"},
                      [{"type": x["type"], "status": x["status"]} for x in crd["status"]["conditions"]])
        self.assertEqual(crd["metadata"]["labels"]["app.kubernetes.io/managed-by"], "meshctl")
        self.assertIsNotNone(c.get("namespace", "istio-system"))
        roles = c.get("clusterroles", "-l", "app.kubernetes.io/managed-by=meshctl")["items"]
        self.assertTrue(roles, "no ClusterRoles")
        self.assertTrue(c.get("clusterrolebindings", "-l", "app.kubernetes.io/managed-by=meshctl")["items"])
        self.assertTrue(c.get("roles", "-n", "istio-system", "-l", "app.kubernetes.io/managed-by=meshctl")["items"])
        self.assertTrue(c.get("serviceaccounts", "-n", "istio-system", "-l", "app.kubernetes.io/managed-by=meshctl")["items"])
        deploy = c.get("deployment", "meshd", "-n", "istio-system")
        self.assertGreaterEqual(deploy["status"].get("readyReplicas", 0), deploy["spec"]["replicas"])
        shown = c.get("deployment", "meshd", "-n", "istio-system", "--show-managed-fields")
        managers = {m["manager"] for m in shown["metadata"]["managedFields"]}
        self.assertIn("meshctl", managers)
        self.assertIsNotNone(c.get("service", "meshd", "-n", "istio-system"))
        rv = deploy["metadata"]["resourceVersion"]

        # Again: nothing changes.
        code, out, err = self.install(c)
        self.assertInstalled(c, code, out, err)
        self.assertIn("✔ meshd installed (no changes)", out)
        self.assertIn("✔ Installation complete (no changes)", out)
        self.assertEqual(c.get("deployment", "meshd", "-n", "istio-system")["metadata"]["resourceVersion"], rv)

        code, out, err = c.meshctl("verify-install", *INSTALL[:4])
        self.assertEqual(code, 0, out + err)
        self.assertIn("✔ Deployment istio-system/meshd is ready", out)
        self.assertIn(f"✔ CustomResourceDefinition {CRD} is ready", out)
        self.assertIn("Status check results are ✔", out)

        # A deleted Deployment: verify-install names it; install puts it back.
        self.assertEqual(c.kubectl("delete", "deployment", "meshd", "-n", "istio-system").returncode, 0)
        code, out, err = c.meshctl("verify-install", *INSTALL[:4])
        self.assertEqual(code, 69, out + err)
        self.assertIn("✘ Deployment istio-system/meshd exists", out)
        self.assertIn("meshctl install", out)
        self.assertIn("Status check results are ✘", out)
        code, out, err = self.install(c)
        self.assertInstalled(c, code, out, err)
        self.assertIn("✔ Istio core installed (no changes)", out)
        self.assertNotIn("✔ meshd installed (no changes)", out)

        # verify-install -f: against a saved manifest, and --verify after install.
        manifest = os.path.join(c.dir, "manifest.yaml")
        gen = subprocess.run([MESHCTL, "manifest", "generate", *INSTALL[:4]], capture_output=True, text=True, check=True)
        with open(manifest, "w") as f:
            f.write(gen.stdout)
        code, out, err = c.meshctl("verify-install", "-f", manifest)
        self.assertEqual(code, 0, out + err)
        self.assertIn("✔ Service istio-system/meshd exists", out)
        code, out, err = self.install(c, "--verify")
        self.assertEqual(code, 0, out + err)
        self.assertIn("Status check results are ✔", out)

        # Another field manager owns spec.replicas: a conflict naming it, unless --force.
        other = os.path.join(c.dir, "replicas.yaml")
        with open(other, "w") as f:
            f.write("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: meshd, namespace: istio-system}\n"
                    "spec: {replicas: 2}\n")
        p = c.kubectl("apply", "--server-side", "--field-manager", "other", "--force-conflicts", "-f", other)
        self.assertEqual(p.returncode, 0, p.stderr)
        code, out, err = self.install(c)
        self.assertEqual(code, 69, out + err)
        self.assertIn(".spec.replicas (managed by \"other\")", out)
        self.assertIn("pass --force", out)
        code, out, err = self.install(c, "--force")
        self.assertInstalled(c, code, out, err)

    def test_plan_prompt_and_dry_run_change_nothing(self):
        c = self.cluster()
        code, out, err = c.meshctl("install", *INSTALL, "--dry-run")
        self.assertEqual(code, 0, out + err)
        self.assertIn(f"Cluster: {c.url}", out)
        self.assertIn("context  mesh", out)
        self.assertRegex(out, r"Istio core\s+\d+ objects: \d+ CustomResourceDefinitions")
        self.assertRegex(out, r"meshd\s+\d+ objects: .*1 Deployment")
        self.assertIn("Dry run: nothing was applied.", out)
        self.assertIsNone(c.get("namespace", "istio-system"))

        code, out, err = c.meshctl("install", *INSTALL, stdin="n\n")
        self.assertEqual(code, 1, out + err)
        self.assertIn('["Istio core" "meshd"] components into the cluster. Proceed? (y/N)', out)
        self.assertIn("Cancelled.", out)
        self.assertIsNone(c.get("namespace", "istio-system"))

        code, out, err = c.meshctl("install", *INSTALL, stdin="y\n")
        self.assertEqual(code, 0, out + err)
        self.assertIn("✔ Installation complete", out)

    def test_forbidden_is_named(self):
        c = self.cluster("--forbid", "patch:clusterroles")
        code, out, err = self.install(c)
        self.assertEqual(code, 69, out + err)
        self.assertRegex(out, r"✘ .*ClusterRole .*patch.*clusterroles")
        self.assertIn("RBAC rule missing", out)
        self.assertIn("✘ Installation failed", out)
        self.assertIn("not installed:", out)

    def test_persistent_500_then_heal(self):
        c = self.cluster()
        c.control("POST", "/__test/faults", {"verb": "patch", "resource": "deployments", "status": 500, "count": -1})
        code, out, err = self.install(c)
        self.assertEqual(code, 69, out + err)
        self.assertIn("✔ Istio core installed", out)
        self.assertIn("✘ meshd: Deployment istio-system/meshd:", out)
        self.assertIn("injected fault", out)
        self.assertIn("installed: Istio core", out)
        self.assertIn("not installed: meshd", out)
        c.control("DELETE", "/__test/faults")
        code, out, err = self.install(c)
        self.assertInstalled(c, code, out, err)
        self.assertIn("✔ Istio core installed (no changes)", out)
        self.assertEqual(c.meshctl("verify-install", *INSTALL[:4])[0], 0)

    def test_stalled_request_times_out(self):
        c = self.cluster()
        c.control("POST", "/__test/faults", {"verb": "patch", "resource": "deployments", "stall": True, "count": -1})
        began = time.monotonic()
        code, out, err = c.meshctl("install", "-y", *INSTALL[:4], "--request-timeout", "1s", timeout=45)
        self.assertLess(time.monotonic() - began, 30)
        self.assertEqual(code, 69, out + err)
        self.assertIn("✘ meshd: Deployment istio-system/meshd:", out)
        self.assertIn("installed: Istio core", out)
        c.control("DELETE", "/__test/faults")
        code, out, err = self.install(c)
        self.assertInstalled(c, code, out, err)

    def test_uninstall_keeps_crds_unless_purge(self):
        c = self.cluster()
        self.assertInstalled(c, *self.install(c))
        code, out, err = c.meshctl("uninstall", stdin="")
        self.assertEqual(code, 1, out + err)
        self.assertIn("delete Deployment istio-system/meshd", out)
        self.assertIn("keep", out)
        self.assertIsNotNone(c.get("deployment", "meshd", "-n", "istio-system"))

        code, out, err = c.meshctl("uninstall", "-y")
        self.assertEqual(code, 0, out + err)
        self.assertIn("✔ meshd removed", out)
        self.assertIn("✔ Uninstall complete", out)
        self.assertIsNone(c.get("deployment", "meshd", "-n", "istio-system"))
        self.assertIsNone(c.get("service", "meshd", "-n", "istio-system"))
        self.assertEqual(c.get("clusterroles", "-l", "app.kubernetes.io/managed-by=meshctl")["items"], [])
        self.assertEqual(c.get("clusterrolebindings", "-l", "app.kubernetes.io/managed-by=meshctl")["items"], [])
        self.assertEqual(c.get("roles", "-A", "-l", "app.kubernetes.io/managed-by=meshctl")["items"], [])
        self.assertIsNotNone(c.get("crd", CRD))
        self.assertIsNotNone(c.get("namespace", "istio-system"))

        code, out, err = c.meshctl("uninstall", "-y")
        self.assertEqual(code, 0, out + err)
        self.assertIn("nothing to uninstall", out)

        code, out, err = c.meshctl("uninstall", "--purge", "-y")
        self.assertEqual(code, 0, out + err)
        self.assertIsNone(c.get("crd", CRD))
        self.assertIsNone(c.get("namespace", "istio-system"))
        self.assertEqual(c.get("crd", "-l", "app.kubernetes.io/managed-by=meshctl")["items"], [])


def main():
    global MESHCTL, SOURCE, TMP
    MESHCTL, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if shutil.which("kubectl") is None:
        print("cluster_install_test: kubectl is not installed", file=sys.stderr)
        return 1
    TMP = tempfile.mkdtemp(prefix="cluster-install-")
    try:
        make_certs(TMP)
        result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
        return 0 if result.wasSuccessful() else 1
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
