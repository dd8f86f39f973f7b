#!/usr/bin/env python3
"""meshd with the Kubernetes backend, end to end: the test API server (tests/kube_apiserver),
the CRDs `meshctl manifest generate` renders, applied with the real kubectl, and meshd (and
`meshctl analyze`) reading the cluster through a kubeconfig (--kubeconfig/--context). An invalid DestinationRule applied
while meshd runs must show up in meshd's /debug/config_errors, and leave it when deleted: the
watch, not only the first list, reaches the control plane.

Usage: meshd_kube_test.py MESHCTL MESHD SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from harness import free_port  # noqa: E402
from test_certs import make_certs  # noqa: E402

MESHCTL, MESHD, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]

MESH_CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {{name: istio, namespace: istio-system}}
data:
  mesh: |
    extensionProviders:
    - name: ext-authz
      envoyExtAuthzGrpc: {{service: authz.payments.svc.cluster.local, port: {port}}}
"""

BAD_RULE = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: payments}
spec:
  host: payments-api.payments.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v1, labels: {version: v2}}
"""

DANGLING_ROUTE = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payments-api, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  http: [{route: [{destination: {host: nowhere.payments.svc.cluster.local}}]}]
"""

SERVICE = """apiVersion: v1
kind: Namespace
metadata: {name: payments}
---
apiVersion: v1
kind: Service
metadata: {name: payments-api, namespace: payments}
spec:
  selector: {app: payments-api}
  ports: [{name: http, port: 8080}]
"""


def wait_for(what, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")



def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def main():
    if shutil.which("kubectl") is None:
        print("meshd_kube_test: kubectl is not installed", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="meshd-kube-")
    procs = []
    try:
        ready = os.path.join(tmp, "url")
        make_certs(tmp)
        server = subprocess.Popen(
            [sys.executable, os.path.join(SOURCE, "tests/kube_apiserver/kube_apiserver.py"),
             "--listen", "127.0.0.1:0", "--ready-file", ready, "--token", "meshd-token",
             "--tls-cert", os.path.join(tmp, "server.pem"), "--tls-key", os.path.join(tmp, "server-key.pem"),
             "--finalize-delay-ms", "0"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "apiserver.log"), "w"))
        procs.append(server)
        url = wait_for("the test API server", lambda: os.path.exists(ready) and open(ready).read())
        kubeconfig = os.path.join(tmp, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{url}", certificate-authority: ca.pem}}
users:
- name: meshd
  user: {{token: meshd-token}}
contexts:
- name: other
  context: {{cluster: test, user: nobody}}
- name: mesh
  context: {{cluster: test, user: meshd}}
current-context: other
""")
        env = dict(os.environ, KUBECONFIG=kubeconfig)

        def kubectl(*args, stdin=None):
            return subprocess.run(["kubectl", "--context", "mesh", *args], input=stdin, env=env,
                                  capture_output=True, text=True, timeout=60)

        crds = subprocess.run([MESHCTL, "manifest", "generate", "-p", "minimal"], capture_output=True,
                              text=True, timeout=60, check=True).stdout
        only_crds = "\n---\n".join(d for d in crds.split("\n---\n") if "kind: CustomResourceDefinition" in d)
        out = kubectl("apply", "-f", "-", stdin=only_crds)
        assert out.returncode == 0, out.stderr
        out = kubectl("apply", "-f", "-", stdin=SERVICE)
        assert out.returncode == 0, out.stderr

        mon = free_port()
        meshd = subprocess.Popen(
            [MESHD, "--kubeconfig", kubeconfig, "--context", "mesh", "--xds-address", f"127.0.0.1:{free_port()}",
             "--monitoring-address", f"127.0.0.1:{mon}", "--debug-address", "127.0.0.1:0", "--debounce", "10ms",
             "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "meshd.log"), "w"))
        procs.append(meshd)
        wait_for("meshd /ready", lambda: urllib.request.urlopen(f"http://127.0.0.1:{mon}/ready", timeout=2).status == 200)
        errors = f"http://127.0.0.1:{mon}/debug/config_errors"
        assert get_json(errors)["errors"] == [], get_json(errors)
        start = get_json(errors)["generation"]

        out = kubectl("apply", "-f", "-", stdin=BAD_RULE)
        assert out.returncode == 0, out.stderr
        found = wait_for("the invalid DestinationRule in /debug/config_errors",
                         lambda: [e for e in get_json(errors)["errors"] if "payments" in json.dumps(e)])
        text = json.dumps(found)
        assert "subsets" in text, text
        assert get_json(errors)["generation"] > start

        out = kubectl("delete", "destinationrule", "payments", "-n", "payments")
        assert out.returncode == 0, out.stderr
        wait_for("the error to clear", lambda: get_json(errors)["errors"] == [])

        # meshctl analyze reads the same cluster (istioctl's --use-kube) through the kubeconfig.
        out = kubectl("apply", "-f", "-", stdin=DANGLING_ROUTE)
        assert out.returncode == 0, out.stderr
        analyzed = subprocess.run([MESHCTL, "analyze", "--kubeconfig", kubeconfig, "--context", "mesh", "-A", "-o", "json"],
                                  capture_output=True, text=True, timeout=60)
        assert analyzed.returncode == 0, analyzed.stderr
        found = [(m["code"], m.get("origin")) for m in json.loads(analyzed.stdout)]
        assert ("IST0101", "VirtualService payments/payments-api") in found, found

        # MeshConfig: meshd watches the istio ConfigMap of its root namespace. A bad one is reported
        # with its field and the last good one stays; a good one is pushed.
        def meshd_log():
            with open(os.path.join(tmp, "meshd.log")) as f:
                return f.read()
        out = kubectl("create", "namespace", "istio-system")
        assert out.returncode == 0 or "AlreadyExists" in out.stderr, out.stderr
        out = kubectl("apply", "-f", "-", stdin=MESH_CONFIGMAP.format(port=0))
        assert out.returncode == 0, out.stderr
        wait_for("the bad MeshConfig reported", lambda: "data.mesh: extensionProviders[0]" in meshd_log())
        assert "MeshConfig changed" not in meshd_log(), meshd_log()
        out = kubectl("apply", "-f", "-", stdin=MESH_CONFIGMAP.format(port=9000))
        assert out.returncode == 0, out.stderr
        wait_for("the good MeshConfig pushed", lambda: "MeshConfig changed" in meshd_log())

        # A context that does not exist is a clear startup error, not a hang.
        bad = subprocess.run([MESHD, "--kubeconfig", kubeconfig, "--context", "nope", "--xds-address", "127.0.0.1:0",
                              "--monitoring-address", "127.0.0.1:0", "--debug-address", "127.0.0.1:0"],
                             capture_output=True, text=True, timeout=30)
        assert bad.returncode != 0 and "nope" in bad.stderr, (bad.returncode, bad.stderr)
        print("meshd_kube_test: 6 checks passed")
        return 0
    except AssertionError:
        for log in ("meshd.log", "apiserver.log"):
            path = os.path.join(tmp, log)
            if os.path.exists(path):
                print(f"--- {log} (last lines)", file=sys.stderr)
                print("".join(open(path).readlines()[-30:]), file=sys.stderr)
        raise
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
