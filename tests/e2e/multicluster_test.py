#!/usr/bin/env python3
"""Multi-primary discovery end to end: two test API servers (tests/kube_apiserver), a primary
that meshd reads through --kubeconfig and a remote one. `meshctl create-remote-secret` for the
remote cluster, applied to the primary with the real kubectl, must add the remote cluster's
services and endpoints to what meshd serves a connected sidecar (ads_probe), seen through
`meshctl proxy-config endpoint --meshd`: a Service only the remote cluster has, and a Service
both have with the endpoints of each. A remote secret whose kubeconfig runs an exec plugin is
refused with a log line and runs nothing; deleting the remote secret takes its endpoints away.

Usage: multicluster_test.py MESHCTL MESHD ADS_PROBE SOURCE_DIR
"""
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402
from test_certs import make_certs  # noqa: E402

MESHCTL, MESHD, ADS_PROBE, SOURCE = sys.argv[1:5]
READER_TOKEN = "remote-reader-token"
NODE = "sidecar~127.0.0.1~client-0.payments~payments.svc.cluster.local"
PROXY = "client-0.payments"

NAMESPACES = """apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: payments}
"""


def service(name, port):
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: payments}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: {port}}}]
"""


def slice_for(service_name, slice_name, address, port):
    return f"""apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {slice_name}
  namespace: payments
  labels: {{kubernetes.io/service-name: {service_name}}}
addressType: IPv4
ports: [{{name: http, port: {port}}}]
endpoints: [{{addresses: ["{address}"], conditions: {{ready: true}}}}]
"""


PRIMARY_OBJECTS = "---\n".join([service("ledger", 9000), slice_for("ledger", "ledger-primary", "10.1.0.7", 9000)])
REMOTE_OBJECTS = "---\n".join([
    service("payments-api", 8080), slice_for("payments-api", "payments-api-remote", "10.2.0.5", 8080),
    service("ledger", 9000), slice_for("ledger", "ledger-remote", "10.2.0.7", 9000)])


def ready(address):
    try:
        with urllib.request.urlopen(f"http://{address}/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False




class Clusters:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="multicluster-")
        self.procs = harness.Processes(self.dir)
        make_certs(self.dir)
        primary, remote = self.start_server("primary"), self.start_server("remote")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- {{name: primary, cluster: {{server: "{primary}", certificate-authority: ca.pem}}}}
- {{name: remote, cluster: {{server: "{remote}", certificate-authority: ca.pem}}}}
users:
- {{name: admin, user: {{token: admin-token}}}}
- {{name: meshd, user: {{token: meshd-token}}}}
contexts:
- {{name: primary, context: {{cluster: primary, user: admin}}}}
- {{name: remote, context: {{cluster: remote, user: admin}}}}
- {{name: mesh, context: {{cluster: primary, user: meshd}}}}
current-context: primary
""")
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        self.env.pop("POD_NAMESPACE", None)
        self.debug = f"127.0.0.1:{harness.free_port()}"

    def start_server(self, name):
        ready = os.path.join(self.dir, f"{name}.url")
        self.procs.start(f"apiserver-{name}", [
            sys.executable, os.path.join(SOURCE, "tests/kube_apiserver/kube_apiserver.py"), "--listen", "127.0.0.1:0",
            "--ready-file", ready, "--token", "admin-token", "--token", "meshd-token", "--token", READER_TOKEN,
            "--tls-cert", os.path.join(self.dir, "server.pem"), "--tls-key", os.path.join(self.dir, "server-key.pem"),
            "--finalize-delay-ms", "0"])
        return wait_for(f"the {name} API server", lambda: os.path.exists(ready) and open(ready).read())

    def kubectl(self, ctx, *args, stdin=None):
        p = subprocess.run(["kubectl", "--context", ctx, *args], input=stdin, env=self.env, capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, (args, p.stderr)
        return p.stdout

    def meshctl(self, *args):
        return subprocess.run([MESHCTL, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def start_probe(self, xds):
        """A connected sidecar. ads_probe now and then aborts as it starts, on a gRPC assertion in
        its own sync stream (API misuse TOO_MANY_OPERATIONS, whatever the server): try again then."""
        for _ in range(3):
            probe = self.procs.start("probe", [ADS_PROBE, "--xds-address", xds, "--node-id", NODE],
                                     stdout=subprocess.PIPE)
            line = probe.stdout.readline()
            if line.strip() == "synced":
                return
            tail = self.procs.log_tail("probe")
            self.procs.stop("probe")
            assert "TOO_MANY_OPERATIONS" in tail, (line, tail)
        raise AssertionError(f"ads_probe did not sync: {tail}")

    def endpoints(self):
        """ENDPOINT -> CLUSTER of what meshd serves the probe."""
        p = self.meshctl("proxy-config", "endpoint", PROXY, "--meshd", self.debug)
        assert p.returncode == 0, p.stderr
        rows = [line.split() for line in p.stdout.splitlines()[1:] if line.strip()]
        return {row[0]: row[-1] for row in rows}

    def remote_secret(self):
        """`meshctl create-remote-secret` for the remote cluster, playing its token controller."""
        self.kubectl("remote", "create", "serviceaccount", "istio-reader-service-account", "-n", "istio-system")
        cmd = subprocess.Popen([MESHCTL, "create-remote-secret", "--context", "remote", "--name", "remote1"],
                               env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        token_secret = "istio-reader-service-account-istio-remote-secret-token"
        wait_for("the reader token Secret", lambda: cmd.poll() is not None or subprocess.run(
            ["kubectl", "--context", "remote", "-n", "istio-system", "get", "secret", token_secret], env=self.env,
            capture_output=True).returncode == 0)
        data = {"token": base64.b64encode(READER_TOKEN.encode()).decode(),
                "ca.crt": base64.b64encode(open(os.path.join(self.dir, "ca.pem"), "rb").read()).decode()}
        self.kubectl("remote", "-n", "istio-system", "patch", "secret", token_secret, "--type", "merge", "-p",
                     yaml.safe_dump({"data": data}))
        out, err = cmd.communicate(timeout=30)
        assert cmd.returncode == 0, err
        return out

    def exec_secret(self, marker):
        remote = yaml.safe_load(open(self.kubeconfig))["clusters"][1]["cluster"]["server"]
        ca = base64.b64encode(open(os.path.join(self.dir, "ca.pem"), "rb").read()).decode()
        inner = yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": remote, "certificate-authority-data": ca}}],
            "users": [{"name": "u", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/sh",
                "args": ["-c", f"touch {marker}"], "interactiveMode": "Never"}}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]})
        return yaml.safe_dump({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "istio-remote-secret-sneaky", "namespace": "istio-system",
                         "labels": {"istio/multiCluster": "true"}},
            "stringData": {"sneaky": inner}})

    def close(self):
        self.procs.stop_all()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    if shutil.which("kubectl") is None:
        print("multicluster_test: kubectl is not installed", file=sys.stderr)
        return 1
    c = Clusters()
    try:
        crds = subprocess.run([MESHCTL, "manifest", "generate", "-p", "minimal"], capture_output=True, text=True,
                              timeout=60, check=True).stdout
        only_crds = "\n---\n".join(d for d in crds.split("\n---\n") if "kind: CustomResourceDefinition" in d)
        c.kubectl("primary", "apply", "-f", "-", stdin=only_crds)
        for ctx, objects in (("primary", PRIMARY_OBJECTS), ("remote", REMOTE_OBJECTS)):
            c.kubectl(ctx, "apply", "-f", "-", stdin=NAMESPACES)
            c.kubectl(ctx, "apply", "-f", "-", stdin=objects)

        mon = f"127.0.0.1:{harness.free_port()}"
        xds = f"127.0.0.1:{harness.free_port()}"
        c.procs.start("meshd", [MESHD, "--kubeconfig", c.kubeconfig, "--context", "mesh", "--xds-address", xds,
                                "--monitoring-address", mon, "--debug-address", c.debug, "--debounce", "10ms"],
                      env=c.env)
        meshd_log = lambda: c.procs.log_tail("meshd", 40)  # noqa: E731
        wait_for("meshd /ready", lambda: ready(mon), log=meshd_log)
        c.start_probe(xds)

        ledger = "outbound|9000||ledger.payments.svc.cluster.local"
        payments = "outbound|8080||payments-api.payments.svc.cluster.local"
        before = wait_for("the primary's ledger endpoint", lambda: "10.1.0.7:9000" in c.endpoints() and c.endpoints())
        assert before == {"10.1.0.7:9000": ledger}, before

        # The remote cluster joins through its secret, applied with kubectl as istioctl's is.
        secret = c.remote_secret()
        c.kubectl("primary", "apply", "-f", "-", stdin=secret)
        joined = wait_for("the remote cluster's endpoints", lambda: "10.2.0.5:8080" in c.endpoints() and c.endpoints(),
                          log=meshd_log)
        assert joined == {"10.1.0.7:9000": ledger, "10.2.0.7:9000": ledger, "10.2.0.5:8080": payments}, joined
        log = open(c.procs.log_path("meshd")).read()
        assert "remote cluster remote1 (secret istio-system/istio-remote-secret-remote1): connected" in log, log
        assert READER_TOKEN not in log

        # An exec plugin in a remote secret is refused: logged, nothing run, meshd unharmed.
        marker = os.path.join(c.dir, "exec-ran")
        c.kubectl("primary", "apply", "-f", "-", stdin=c.exec_secret(marker))
        wait_for("the refusal in meshd's log", lambda: "runs the exec credential plugin" in
                 open(c.procs.log_path("meshd")).read(), log=meshd_log)
        refusal = [line for line in open(c.procs.log_path("meshd")) if "exec credential plugin" in line]
        assert "remote cluster sneaky" in refusal[0] and "istio-remote-secret-sneaky" in refusal[0], refusal
        assert not os.path.exists(marker), "meshd ran the exec plugin of a remote secret"
        assert c.procs.procs["meshd"].poll() is None, meshd_log()
        assert c.endpoints() == joined

        # The secret goes, and the remote cluster's endpoints with it.
        c.kubectl("primary", "delete", "secret", "istio-remote-secret-remote1", "-n", "istio-system")
        left = wait_for("the remote endpoints to leave", lambda: "10.2.0.5:8080" not in c.endpoints() and c.endpoints(),
                        log=meshd_log)
        assert left == {"10.1.0.7:9000": ledger}, left
        print("multicluster_test: passed")
        return 0
    except AssertionError:
        for name in ("meshd", "apiserver-primary", "apiserver-remote"):
            print(f"--- {name} (last lines)\n{c.procs.log_tail(name, 30)}", file=sys.stderr)
        raise
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
