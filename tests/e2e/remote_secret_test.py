#!/usr/bin/env python3
"""meshctl create-remote-secret against the test API server (tests/kube_apiserver), with the real
kubectl: the reader service account has no token Secret (Kubernetes 1.24+), so meshctl creates
one and waits; the test plays the token controller and fills it in. The printed Secret must
have istioctl's shape, apply cleanly to a second cluster, and carry a kubeconfig whose token
the first cluster accepts.

Usage: remote_secret_test.py MESHCTL SOURCE_DIR
"""
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_certs import make_certs  # noqa: E402

MESHCTL, SOURCE = sys.argv[1], sys.argv[2]
READER_TOKEN = "reader-token-from-the-token-controller"



def start_server(tmp, name, procs):
    ready = os.path.join(tmp, f"{name}.url")
    procs.append(subprocess.Popen(
        [sys.executable, os.path.join(SOURCE, "tests/kube_apiserver/kube_apiserver.py"), "--listen", "127.0.0.1:0",
         "--ready-file", ready, "--token", "admin-token", "--token", READER_TOKEN,
         "--user-for-token", f"{READER_TOKEN}=system:serviceaccount:istio-system:istio-reader-service-account",
         "--tls-cert", os.path.join(tmp, "server.pem"), "--tls-key", os.path.join(tmp, "server-key.pem"),
         "--finalize-delay-ms", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 20
    while not os.path.exists(ready):
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.05)
    return open(ready).read()


def main():
    tmp = tempfile.mkdtemp(prefix="remote-secret-")
    procs = []
    try:
        make_certs(tmp)
        east, west = start_server(tmp, "east", procs), start_server(tmp, "west", procs)
        kubeconfig = os.path.join(tmp, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- {{name: east, cluster: {{server: "{east}", certificate-authority: ca.pem}}}}
- {{name: west, cluster: {{server: "{west}", certificate-authority: ca.pem}}}}
users:
- {{name: admin, user: {{token: admin-token}}}}
contexts:
- {{name: east, context: {{cluster: east, user: admin}}}}
- {{name: west, context: {{cluster: west, user: admin}}}}
current-context: west
""")
        env = dict(os.environ, KUBECONFIG=kubeconfig)

        def kubectl(ctx, *args, stdin=None):
            p = subprocess.run(["kubectl", "--context", ctx, *args], input=stdin, env=env, capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 0, (args, p.stderr)
            return p.stdout

        for ctx in ("east", "west"):
            kubectl(ctx, "create", "namespace", "istio-system")
        kubectl("east", "create", "serviceaccount", "istio-reader-service-account", "-n", "istio-system")

        cmd = subprocess.Popen([MESHCTL, "create-remote-secret", "--context", "east", "--name", "east"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The token controller's part: fill in the Secret meshctl created for the account.
        token_secret = "istio-reader-service-account-istio-remote-secret-token"
        deadline = time.monotonic() + 20
        while subprocess.run(["kubectl", "--context", "east", "-n", "istio-system", "get", "secret", token_secret],
                             env=env, capture_output=True).returncode != 0:
            assert time.monotonic() < deadline and cmd.poll() is None, cmd.communicate()
            time.sleep(0.1)
        annotations = yaml.safe_load(kubectl("east", "-n", "istio-system", "get", "secret", token_secret, "-o", "yaml"))
        assert annotations["metadata"]["annotations"]["kubernetes.io/service-account.name"] == \
            "istio-reader-service-account", annotations
        assert annotations["type"] == "kubernetes.io/service-account-token", annotations
        data = {"token": base64.b64encode(READER_TOKEN.encode()).decode(),
                "ca.crt": base64.b64encode(open(os.path.join(tmp, "ca.pem"), "rb").read()).decode()}
        kubectl("east", "-n", "istio-system", "patch", "secret", token_secret, "--type", "merge", "-p",
                yaml.safe_dump({"data": data}))
        out, err = cmd.communicate(timeout=30)
        assert cmd.returncode == 0, err

        docs = [d for d in yaml.safe_load_all(out) if d]
        assert len(docs) == 1, out
        secret = docs[0]
        assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "istio-remote-secret-east", secret
        assert secret["metadata"]["namespace"] == "istio-system"
        assert secret["metadata"]["labels"] == {"istio/multiCluster": "true"}, secret
        assert secret["metadata"]["annotations"] == {"networking.istio.io/cluster": "east"}, secret
        remote = yaml.safe_load(secret["stringData"]["east"])
        assert remote["current-context"] == "east" and remote["clusters"][0]["cluster"]["server"] == east, remote
        assert remote["users"][0]["user"]["token"] == READER_TOKEN

        # It applies to the other cluster, and the kubeconfig inside reads the first one.
        kubectl("west", "apply", "-f", "-", stdin=out)
        stored = yaml.safe_load(kubectl("west", "-n", "istio-system", "get", "secret", "istio-remote-secret-east",
                                        "-o", "yaml"))
        inner = base64.b64decode(stored["data"]["east"]).decode()
        inner_path = os.path.join(tmp, "inner-kubeconfig")
        with open(inner_path, "w") as f:
            f.write(inner)
        p = subprocess.run(["kubectl", "--kubeconfig", inner_path, "get", "namespace", "istio-system", "-o", "name"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stdout.strip() == "namespace/istio-system", (p.stdout, p.stderr)

        # --server and --secret-name; a missing service account is a clear error.
        out = subprocess.run([MESHCTL, "create-remote-secret", "--context", "east", "--name", "east", "--server",
                              "https://east.example.com:6443", "--secret-name", "east-reader"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        secret = yaml.safe_load(out.stdout.split("---")[0].split("\n", 1)[1])
        assert secret["metadata"]["name"] == "east-reader"
        assert "https://east.example.com:6443" in secret["stringData"]["east"]
        bad = subprocess.run([MESHCTL, "create-remote-secret", "--context", "west", "--name", "west"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode != 0 and "istio-reader-service-account" in bad.stderr, (bad.returncode, bad.stderr)
        print("remote_secret_test: passed")
        return 0
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
