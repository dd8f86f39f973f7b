#!/usr/bin/env python3
"""Checks the test API server against the real kubectl, then its API semantics over HTTP.

Starts kube_apiserver.py with TLS (a throwaway CA made with the openssl CLI), a bearer token,
client-certificate auth and a --forbid rule; drives it with kubectl through a temporary
kubeconfig; then exercises paging, watch/compaction, server-side apply, faults and error
Statuses directly. Prints `N passed, N failed` and exits non-zero on any failure.
Needs: python3, openssl, kubectl (KUBECTL=path overrides). No built binaries.
"""

import http.client
import json
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "kube_apiserver.py")
TOKEN = "test-token-123"
USER = "test-admin"

try:
    import yaml
except ImportError:
    yaml = None

TESTDATA = os.path.join(HERE, "testdata")  # manifests; the test edits copies of them


def manifest(name):
    with open(os.path.join(TESTDATA, name)) as f:
        return f.read()


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def subset(want, got, path=""):
    """Everything in `want` is in `got` (lists item by item): the applied config survived."""
    if isinstance(want, dict):
        check(isinstance(got, dict), f"{path}: expected a map, got {got!r}")
        for k, v in want.items():
            check(k in got, f"{path}.{k} missing")
            subset(v, got[k], f"{path}.{k}")
    elif isinstance(want, list):
        check(isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} != {want!r}")
        for i, (a, b) in enumerate(zip(want, got)):
            subset(a, b, f"{path}[{i}]")
    else:
        check(want == got, f"{path}: {got!r} != {want!r}")


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl") or "/usr/bin/kubectl"
        self._make_certs()
        ready = os.path.join(tmp, "url")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--listen", "127.0.0.1:0",
             "--tls-cert", self.path("server.pem"), "--tls-key", self.path("server-key.pem"),
             "--client-ca", self.path("ca.pem"), "--token", TOKEN,
             "--user-for-token", f"{TOKEN}={USER}", "--forbid", "get:secrets",
             "--ready-file", ready, "--bookmark-interval-ms", "200"],
            stdout=subprocess.PIPE, stderr=open(self.path("server.log"), "w"), text=True)
        first = self.proc.stdout.readline().strip()
        deadline = time.time() + 15
        while not os.path.exists(ready) and time.time() < deadline:
            time.sleep(0.05)
        check(os.path.exists(ready), "server did not write --ready-file")
        self.url = open(ready).read().strip()
        check(first == self.url, f"first stdout line {first!r} != ready file {self.url!r}")
        check(self.url.startswith("https://127.0.0.1:"), self.url)
        self.host, self.port = "127.0.0.1", int(self.url.rsplit(":", 1)[1])
        self.ctx = ssl.create_default_context(cafile=self.path("ca.pem"))
        with open(self.path("kubeconfig"), "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{self.url}", certificate-authority: "{self.path('ca.pem')}"}}
users:
- name: admin
  user: {{token: "{TOKEN}"}}
contexts:
- name: test
  context: {{cluster: test, user: admin}}
current-context: test
""")
        for name in os.listdir(TESTDATA):
            shutil.copy(os.path.join(TESTDATA, name), self.path(name))
        self.kenv = dict(os.environ, KUBECONFIG=self.path("kubeconfig"),
                         HOME=self.path("home"), KUBECACHEDIR=self.path("home/cache"))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def _make_certs(self):
        def ossl(*args):
            subprocess.run(["openssl", *args], cwd=self.tmp, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
             "-out", "ca.pem", "-days", "1", "-subj", "/CN=kube-apiserver-test-ca")
        with open(self.path("san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for name, subj, ext in (("server", "/CN=localhost", ["-extfile", "san.ext"]),
                                ("client", "/CN=cert-user/O=system:masters", [])):
            ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem",
                 "-out", f"{name}.csr", "-subj", subj)
            ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", *ext)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    # --- clients -------------------------------------------------------------------------
    def kubectl_run(self, *args, stdin=None, timeout=30):
        r = subprocess.run([self.kubectl, *args], env=self.kenv, input=stdin,
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def kubectl_ok(self, *args, stdin=None):
        rc, out, err = self.kubectl_run(*args, stdin=stdin)
        check(rc == 0, f"kubectl {' '.join(args)} exited {rc}: {err.strip()}")
        return out

    def conn(self, ctx=None, timeout=10):
        return http.client.HTTPSConnection(self.host, self.port, context=ctx or self.ctx,
                                           timeout=timeout)

    def api(self, method, path, body=None, ctype="application/json", token=TOKEN,
            timeout=10, conn=None, raw=None):
        c = conn or self.conn(timeout=timeout)
        headers = {"Accept": "application/json", "User-Agent": "kubectl-test/1.0"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else
                                             body if isinstance(body, str) else json.dumps(body))
        if data is not None:
            headers["Content-Type"] = ctype
        c.request(method, path, body=data, headers=headers)
        resp = c.getresponse()
        text = resp.read().decode()
        if conn is None:
            c.close()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    def ok(self, method, path, body=None, ctype="application/json", want=(200, 201)):
        code, out = self.api(method, path, body, ctype)
        check(code in want, f"{method} {path} -> {code}: {out}")
        return out

    def watch(self, path):
        """An open watch: returns (connection, response); read events with next_event."""
        c = self.conn(timeout=10)
        c.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        resp = c.getresponse()
        check(resp.status == 200, f"watch {path} -> {resp.status}")
        check(resp.getheader("Transfer-Encoding") == "chunked", "watch is not chunked")
        return c, resp


def next_event(resp):
    line = resp.readline()
    return json.loads(line) if line.strip() else None


def status_is(out, code, reason, message=None):
    check(isinstance(out, dict) and out.get("kind") == "Status", f"not a Status: {out}")
    check(out.get("code") == code and out.get("reason") == reason and
          out.get("status") == "Failure", f"want {code} {reason}, got {out}")
    if message is not None:
        check(out.get("message") == message, f"message {out.get('message')!r} != {message!r}")


def manifest_docs(env, name):
    text = open(env.path(name)).read()
    if yaml:
        return list(yaml.safe_load_all(text))
    return None


def get_object(env, *args):
    """kubectl get -o yaml when PyYAML is there to read it, else -o json."""
    if yaml:
        return yaml.safe_load(env.kubectl_ok("get", *args, "-o", "yaml"))
    return json.loads(env.kubectl_ok("get", *args, "-o", "json"))


# --- kubectl ---------------------------------------------------------------------------------
def t_kubectl_client_side_apply(env):
    out = env.kubectl_ok("apply", "-f", env.path("base.yaml"))
    for line in ("namespace/demo created", "configmap/settings created",
                 "deployment.apps/web created",
                 "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"):
        check(line in out, f"missing {line!r} in {out!r}")
    out = env.kubectl_ok("apply", "-f", env.path("widget.yaml"))
    check("widget.example.com/w1 created" in out, out)
    # Change and re-apply: kubectl GETs, then PATCHes (strategic merge for built-ins,
    # merge patch for the custom resource).
    base = open(env.path("base.yaml")).read()
    with open(env.path("base.yaml"), "w") as f:
        f.write(base.replace("replicas: 2", "replicas: 3").replace("mode: fast", "mode: slow")
                .replace("{name: MODE, value: fast}", "{name: MODE, value: slow}"))
    with open(env.path("widget.yaml"), "w") as f:
        f.write(manifest("widget.yaml").replace("size: 3", "size: 4"))
    out = env.kubectl_ok("apply", "-f", env.path("base.yaml"), "-f", env.path("widget.yaml"))
    for line in ("namespace/demo unchanged", "configmap/settings configured",
                 "deployment.apps/web configured", "widget.example.com/w1 configured"):
        check(line in out, f"missing {line!r} in {out!r}")
    reqs = env.ok("GET", "/__test/requests")["requests"]
    patch_types = {(r["resource"], r["contentType"]) for r in reqs if r["method"] == "PATCH"}
    check(("deployments", "application/strategic-merge-patch+json") in patch_types, patch_types)
    check(("widgets", "application/merge-patch+json") in patch_types, patch_types)
    check(all(r["user"] == USER for r in reqs if r.get("verb")), "requests not logged as user")
    dep = env.ok("GET", "/apis/apps/v1/namespaces/demo/deployments/web")
    check(dep["metadata"]["generation"] == 2, f"generation {dep['metadata'].get('generation')}")
    check("kubectl.kubernetes.io/last-applied-configuration" in dep["metadata"]["annotations"],
          "no last-applied annotation")


def t_kubectl_strategic_merge(env):
    """kubectl's three-way strategic merge patch: $setElementOrder, $patch: delete, nulls."""
    env.kubectl_ok("apply", "-f", env.path("smp-1.yaml"))
    out = env.kubectl_ok("apply", "-f", env.path("smp-2.yaml"))
    check("deployment.apps/smp configured" in out, out)
    dep = env.ok("GET", "/apis/apps/v1/namespaces/default/deployments/smp")
    check(dep["metadata"]["labels"] == {"a": "1"}, dep["metadata"]["labels"])
    check(dep["spec"]["strategy"]["type"] == "RollingUpdate", "removed strategy not defaulted")
    got = [(c["name"], c["image"], c.get("env"), c.get("ports"))
           for c in dep["spec"]["template"]["spec"]["containers"]]
    check(got == [("two", "busybox:2", None, None),
                  ("one", "busybox", [{"name": "B", "value": "3"}],
                   [{"containerPort": 81, "protocol": "TCP"}])], got)
    env.kubectl_ok("delete", "-f", env.path("smp-2.yaml"))


def t_kubectl_get_yaml_matches(env):
    docs = manifest_docs(env, "base.yaml")
    targets = [("namespace", "demo"), ("configmap", "settings", "-n", "demo"),
               ("deployment", "web", "-n", "demo"),
               ("crd", "widgets.example.com")]
    for i, args in enumerate(targets):
        got = get_object(env, *args)
        if docs:
            subset(docs[i], got)
        check(got["metadata"].get("uid") and got["metadata"].get("resourceVersion"),
              "server did not fill uid/resourceVersion")
    crd = get_object(env, "crd", "widgets.example.com")
    conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    check(conds == {"NamesAccepted": "True", "Established": "True"}, conds)
    widget = get_object(env, "widget", "w1", "-n", "demo")
    check(widget["spec"] == {"size": 4, "color": "blue"}, widget["spec"])
    check(widget["metadata"]["generation"] == 2, widget["metadata"])


def t_kubectl_api_resources(env):
    out = env.kubectl_ok("api-resources")
    rows = [line.split() for line in out.splitlines()]
    check(["widgets", "wd", "example.com/v1", "true", "Widget"] in rows,
          f"Widget not listed:\n{out}")
    check(["deployments", "deploy", "apps/v1", "true", "Deployment"] in rows, out)
    out = env.kubectl_ok("get", "wd", "-n", "demo")
    check(out.split()[:3] == ["NAME", "AGE", "w1"], out)


def t_kubectl_server_side_apply(env):
    out = env.kubectl_ok("apply", "--server-side", "-f", env.path("ssa.yaml"))
    check("configmap/ssa-cm serverside-applied" in out and
          "widget.example.com/w2 serverside-applied" in out, out)
    docs = manifest_docs(env, "ssa.yaml")
    cm = get_object(env, "configmap", "ssa-cm", "-n", "demo", "--show-managed-fields")
    if docs:
        subset(docs[0], cm)
        subset(docs[1], get_object(env, "widget", "w2", "-n", "demo"))
    managers = {(m["manager"], m["operation"]) for m in cm["metadata"]["managedFields"]}
    check(managers == {("kubectl", "Apply")}, managers)
    # Switching objects made with client-side apply over to server-side apply.
    out = env.kubectl_ok("apply", "--server-side", "-f", env.path("base.yaml"))
    check("deployment.apps/web serverside-applied" in out, out)
    # Another manager changing kubectl's field conflicts, unless it forces.
    rc, out, err = env.kubectl_run("apply", "--server-side", "--field-manager=other",
                                   "-f", env.path("ssa-other.yaml"))
    check(rc == 1 and 'Apply failed with 1 conflict: conflict with "kubectl": .data.owner' in err,
          f"rc={rc} {err}")
    env.kubectl_ok("apply", "--server-side", "--field-manager=other", "--force-conflicts",
                   "-f", env.path("ssa-other.yaml"))
    cm = json.loads(env.kubectl_ok("get", "cm", "ssa-cm", "-n", "demo", "-o", "json",
                                   "--show-managed-fields"))
    check(cm["data"] == {"owner": "someone-else", "shared": "1"}, cm["data"])
    owned = {m["manager"]: m["fieldsV1"]["f:data"] for m in cm["metadata"]["managedFields"]}
    check(owned == {"kubectl": {"f:shared": {}}, "other": {"f:owner": {}}}, owned)


def t_kubectl_watch_sees_update(env):
    proc = subprocess.Popen([env.kubectl, "get", "deploy", "web", "-n", "demo", "-w",
                             "--output-watch-events"], env=env.kenv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    got = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("MODIFIED"):
                got.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.time() + 10
        while not any(line.startswith("ADDED") for line in lines) and time.time() < deadline:
            time.sleep(0.05)
        check(any(line.startswith("ADDED") for line in lines), f"no ADDED line: {lines}")
        dep = env.ok("GET", "/apis/apps/v1/namespaces/demo/deployments/web")
        dep["spec"]["replicas"] = 4
        env.ok("PUT", "/apis/apps/v1/namespaces/demo/deployments/web", dep)
        env.ok("POST", "/__test/ready", {"namespace": "demo", "name": "web"})
        check(got.wait(10), f"kubectl get -w printed no MODIFIED: {lines}")
        deadline = time.time() + 5
        while not any("4/4" in line for line in lines) and time.time() < deadline:
            time.sleep(0.05)
        check(any(line.split()[:3] == ["MODIFIED", "web", "4/4"] for line in lines), lines)
    finally:
        proc.terminate()
        proc.wait(5)


def t_kubectl_errors(env):
    rc, out, err = env.kubectl_run("get", "deploy", "nope", "-n", "demo")
    check(rc == 1, f"rc={rc}")
    check('Error from server (NotFound): deployments.apps "nope" not found' in err, err)
    rc, out, err = env.kubectl_run("get", "secret", "s1", "-n", "demo")
    check(rc == 1, f"rc={rc}")
    check(f'Error from server (Forbidden): secrets "s1" is forbidden: User "{USER}" cannot get '
          'resource "secrets" in API group "" in the namespace "demo"' in err, err)
    rc, out, err = env.kubectl_run("auth", "can-i", "get", "secrets", "-n", "demo")
    check(out.strip() == "no", out + err)
    check(env.kubectl_ok("auth", "can-i", "create", "deployments", "-n", "demo").strip()
          == "yes", "can-i create deployments")


def t_kubectl_scale(env):
    out = env.kubectl_ok("scale", "deploy", "web", "-n", "demo", "--replicas=1")
    check("deployment.apps/web scaled" in out, out)
    dep = env.ok("GET", "/apis/apps/v1/namespaces/demo/deployments/web")
    check(dep["spec"]["replicas"] == 1, dep["spec"])


def t_kubectl_delete(env):
    with open(env.path("widget.yaml"), "w") as f:
        f.write(manifest("widget.yaml"))
    out = env.kubectl_ok("delete", "-f", env.path("widget.yaml"), "-f", env.path("base.yaml"))
    for line in ('widget.example.com "w1" deleted', 'namespace "demo" deleted',
                 'deployment.apps "web" deleted',
                 'customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted'):
        check(line in out, f"missing {line!r} in {out!r}")
    code, out = env.api("GET", "/api/v1/namespaces/demo")
    status_is(out, 404, "NotFound", 'namespaces "demo" not found')
    code, out = env.api("GET", "/apis/example.com/v1/namespaces/demo/widgets")
    status_is(out, 404, "NotFound", "the server could not find the requested resource")
    rows = [line.split()[0] for line in env.kubectl_ok("api-resources").splitlines()]
    check("widgets" not in rows, "widgets still in discovery")


# --- HTTP ------------------------------------------------------------------------------------
def t_http_auth(env):
    code, out = env.api("GET", "/api/v1/namespaces", token=None)
    status_is(out, 401, "Unauthorized", "Unauthorized")
    code, out = env.api("GET", "/api/v1/namespaces", token="wrong")
    check(code == 401, code)
    ctx = ssl.create_default_context(cafile=env.path("ca.pem"))
    ctx.load_cert_chain(env.path("client.pem"), env.path("client-key.pem"))
    code, out = env.api("GET", "/api/v1/namespaces", token=None, conn=env.conn(ctx))
    check(code == 200 and out["kind"] == "NamespaceList", f"{code} {out}")
    code, out = env.api("GET", "/api/v1/namespaces/default/secrets/x", token=None,
                        conn=env.conn(ctx))
    check(code == 403 and 'User "cert-user"' in out["message"], out)


def t_http_keepalive_and_bad_requests(env):
    c = env.conn()
    for _ in range(3):
        code, out = env.api("GET", "/api/v1/namespaces/default", conn=c)
        check(code == 200, code)
    # A watch that times out ends its chunked stream; the connection carries on.
    c.request("GET", "/api/v1/namespaces?watch=1&timeoutSeconds=1",
              headers={"Authorization": f"Bearer {TOKEN}"})
    resp = c.getresponse()
    events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    check([e["type"] for e in events] == ["ADDED"] * len(events) and events, events)
    code, out = env.api("GET", "/api/v1/namespaces/default", conn=c)
    check(code == 200, "connection not reusable after a watch")
    c.close()
    raw = ssl.create_default_context(cafile=env.path("ca.pem")).wrap_socket(
        __import__("socket").create_connection((env.host, env.port)), server_hostname="localhost")
    raw.sendall(b"GARBAGE\r\n\r\n")
    reply = raw.recv(4096).decode(errors="replace")
    raw.close()
    check(reply.startswith("HTTP/1.1 400") or reply.startswith("HTTP/1.0 400"), reply[:80])
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps", raw="{not json")
    status_is(out, 400, "BadRequest")
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps",
                        raw="x" * (3 * 1024 * 1024 + 1))
    status_is(out, 413, "RequestEntityTooLarge")
    deep = "[" * 200 + "]" * 200
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps", raw=deep)
    status_is(out, 400, "BadRequest")
    check(env.api("GET", "/version")[0] == 200, "server died after bad requests")


def t_http_errors(env):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e1"}, "data": {"a": "1"}}
    created = env.ok("POST", "/api/v1/namespaces/default/configmaps", cm, want=(201,))
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps", cm)
    status_is(out, 409, "AlreadyExists", 'configmaps "e1" already exists')
    stale = dict(created, data={"a": "2"})
    env.ok("PUT", "/api/v1/namespaces/default/configmaps/e1", stale)
    code, out = env.api("PUT", "/api/v1/namespaces/default/configmaps/e1", stale)
    status_is(out, 409, "Conflict", 'Operation cannot be fulfilled on configmaps "e1": the object '
              "has been modified; please apply your changes to the latest version and try again")
    code, out = env.api("POST", "/api/v1/namespaces/nowhere/configmaps",
                        dict(cm, metadata={"name": "x"}))
    status_is(out, 404, "NotFound", 'namespaces "nowhere" not found')
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps",
                        dict(cm, metadata={"name": "Bad_Name"}))
    status_is(out, 422, "Invalid")
    check(out["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid '
                                    'value: "Bad_Name": a lowercase RFC 1123 subdomain'), out)
    check(out["details"]["causes"][0]["field"] == "metadata.name", out)
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps",
                        dict(cm, metadata={"name": "x", "namespace": "other"}))
    status_is(out, 400, "BadRequest")
    code, out = env.api("DELETE", "/api/v1/namespaces/default/configmaps")
    check(code == 200, out)
    code, out = env.api("PUT", "/api/v1/namespaces/default/configmaps", cm)
    status_is(out, 405, "MethodNotAllowed")
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", cm)
    check(code == 201 and not out["metadata"].get("resourceVersion"), out)
    code, out = env.api("GET", "/api/v1/namespaces/default/configmaps/e1")
    status_is(out, 404, "NotFound", 'configmaps "e1" not found')  # deletecollection above
    code, out = env.api("POST", "/api/v1/namespaces/default/configmaps", cm, ctype="text/plain")
    status_is(out, 415, "UnsupportedMediaType")


def t_http_list_paging(env):
    env.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "paging"}})
    for i in range(7):
        env.ok("POST", "/api/v1/namespaces/paging/configmaps",
               {"metadata": {"name": f"cm-{i}", "labels": {"tier": "abc"[i % 3],
                                                          **({"x": "1"} if i < 2 else {})}}})
    base = "/api/v1/namespaces/paging/configmaps"
    page = env.ok("GET", base + "?limit=3")
    check(len(page["items"]) == 3 and page["metadata"]["remainingItemCount"] == 4, page["metadata"])
    rv = page["metadata"]["resourceVersion"]
    names = [i["metadata"]["name"] for i in page["items"]]
    env.ok("POST", base, {"metadata": {"name": "cm-late"}})        # after the first page
    env.ok("DELETE", base + "/cm-5")
    while page["metadata"].get("continue"):
        token = urllib.parse.quote(page["metadata"]["continue"])
        page = env.ok("GET", f"{base}?limit=3&continue={token}")
        check(page["metadata"]["resourceVersion"] == rv, "pages from different snapshots")
        names += [i["metadata"]["name"] for i in page["items"]]
    check(names == [f"cm-{i}" for i in range(7)], f"inconsistent pages: {names}")
    now = [i["metadata"]["name"] for i in env.ok("GET", base)["items"]]
    check("cm-late" in now and "cm-5" not in now, now)

    def sel(q):
        return sorted(i["metadata"]["name"] for i in env.ok("GET", f"{base}?{q}")["items"])
    check(sel("labelSelector=" + urllib.parse.quote("tier in (a,b)")) ==
          ["cm-0", "cm-1", "cm-3", "cm-4", "cm-6"], sel("labelSelector=tier+in+(a,b)"))
    check(sel("labelSelector=" + urllib.parse.quote("tier!=a,!x")) == ["cm-2", "cm-4", "cm-late"],
          sel("labelSelector=tier!=a,!x"))
    check(sel("labelSelector=x") == ["cm-0", "cm-1"], "exists")
    check(sel("labelSelector=" + urllib.parse.quote("tier notin (a)")) ==
          ["cm-1", "cm-2", "cm-4", "cm-late"], "notin")
    check(sel("fieldSelector=metadata.name%3Dcm-3") == ["cm-3"], "fieldSelector")
    code, out = env.api("GET", base + "?labelSelector=" + urllib.parse.quote("a in b"))
    status_is(out, 400, "BadRequest")


def t_http_watch_and_compaction(env):
    base = "/api/v1/namespaces/paging/configmaps"
    rv = env.ok("GET", base)["metadata"]["resourceVersion"]
    env.ok("PATCH", base + "/cm-0", {"data": {"k": "v"}}, "application/merge-patch+json")
    c, resp = env.watch(f"{base}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true")
    ev = next_event(resp)
    check(ev["type"] == "MODIFIED" and ev["object"]["metadata"]["name"] == "cm-0", ev)
    ev = next_event(resp)
    check(ev["type"] == "BOOKMARK" and int(ev["object"]["metadata"]["resourceVersion"]) >=
          int(rv), ev)
    old_token = env.ok("GET", base + "?limit=1")["metadata"]["continue"]
    env.ok("PATCH", base + "/cm-2", {"data": {"k": "v"}}, "application/merge-patch+json")
    compacted = env.ok("POST", "/__test/compact")["compactedResourceVersion"]
    while ev is not None and ev["type"] in ("BOOKMARK", "MODIFIED"):
        ev = next_event(resp)
    check(ev["type"] == "ERROR" and ev["object"]["code"] == 410 and
          ev["object"]["reason"] == "Expired", f"open watch after compaction: {ev}")
    check(next_event(resp) is None, "watch not closed after compaction ERROR")
    c.close()
    c, resp = env.watch(f"{base}?watch=1&resourceVersion={rv}")
    ev = next_event(resp)
    check(ev["type"] == "ERROR", ev)
    status_is(ev["object"], 410, "Expired", f"too old resource version: {rv} ({compacted})")
    c.close()
    code, out = env.api("GET", f"{base}?limit=1&continue={urllib.parse.quote(old_token)}")
    status_is(out, 410, "Expired")
    # From the compacted revision on, watching works again, with label transitions.
    c, resp = env.watch(f"{base}?watch=1&resourceVersion={compacted}&labelSelector=tier%3Da")
    env.ok("PATCH", base + "/cm-3", {"metadata": {"labels": {"tier": "b"}}},
           "application/merge-patch+json")
    env.ok("DELETE", base + "/cm-0")
    ev1, ev2 = next_event(resp), next_event(resp)
    check((ev1["type"], ev1["object"]["metadata"]["name"]) == ("DELETED", "cm-3"), ev1)
    check((ev2["type"], ev2["object"]["metadata"]["name"]) == ("DELETED", "cm-0"), ev2)
    c.close()


def t_http_server_side_apply(env):
    path = "/api/v1/namespaces/paging/configmaps/applied"
    ctype = "application/apply-patch+yaml"
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n  b: '2'\n"
    if yaml is None:  # the server runs on this interpreter, so it cannot parse YAML either
        doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
               "data": {"a": "1", "b": "2"}}
    code, out = env.api("PATCH", path, doc, ctype)
    status_is(out, 422, "Invalid")  # fieldManager is required
    code, out = env.api("PATCH", path + "?fieldManager=alice", doc, ctype)
    check(code == 201 and out["data"] == {"a": "1", "b": "2"}, f"{code} {out}")
    conflicting = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
                   "data": {"a": "9"}}
    code, out = env.api("PATCH", path + "?fieldManager=bob", conflicting, ctype)
    status_is(out, 409, "Conflict", 'Apply failed with 1 conflict: conflict with "alice": .data.a')
    check(out["details"]["causes"] == [{"reason": "FieldManagerConflict", "message":
                                        'conflict with "alice"', "field": ".data.a"}], out)
    code, out = env.api("PATCH", path + "?fieldManager=bob&force=true", conflicting, ctype)
    check(code == 200 and out["data"] == {"a": "9", "b": "2"}, out)
    owned = {m["manager"]: m["fieldsV1"] for m in out["metadata"]["managedFields"]}
    check(owned == {"alice": {"f:data": {"f:b": {}}}, "bob": {"f:data": {"f:a": {}}}}, owned)
    # alice stops applying b: it goes, since nobody else owns it.
    code, out = env.api("PATCH", path + "?fieldManager=alice",
                        {"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "applied"}, "data": {"c": "3"}}, ctype)
    check(out["data"] == {"a": "9", "c": "3"}, out)
    # An update by another client takes the fields it changes.
    code, out = env.api("PATCH", path + "?fieldManager=carol", {"data": {"c": "4"}},
                        "application/merge-patch+json")
    owned = {m["manager"]: (m["operation"], m["fieldsV1"])
             for m in out["metadata"]["managedFields"]}
    check(owned["carol"] == ("Update", {"f:data": {"f:c": {}}}) and "alice" not in owned, owned)
    # Strategic merge patches are for built-in kinds only.
    code, out = env.api("PATCH", path, {"data": {"d": "5"}},
                        "application/strategic-merge-patch+json")
    check(code == 200 and out["data"]["d"] == "5", out)


def t_http_faults(env):
    path = "/api/v1/namespaces/paging/configmaps/cm-2"
    env.ok("POST", "/__test/faults", {"verb": "get", "resource": "configmaps", "status": 500})
    code, out = env.api("GET", path)
    status_is(out, 500, "InternalError", "Internal error occurred: injected fault")
    check(env.api("GET", path)[0] == 200, "fault fired twice")
    env.ok("POST", "/__test/faults", {"verb": "list", "resource": "*", "stall": True,
                                      "count": -1})
    try:
        env.api("GET", "/api/v1/namespaces/paging/configmaps", timeout=0.5)
        raise Failed("stalled request was answered")
    except (TimeoutError, OSError, http.client.HTTPException):
        pass
    env.ok("DELETE", "/__test/faults")
    check(env.api("GET", "/api/v1/namespaces/paging/configmaps")[0] == 200, "after clearing")
    env.ok("POST", "/__test/faults", {"verb": "*", "resource": "configmaps", "latency_ms": 300})
    started = time.monotonic()
    check(env.api("GET", path)[0] == 200, "latency fault")
    check(time.monotonic() - started >= 0.29, "no latency")
    code, out = env.api("POST", "/__test/faults", {"verb": "fly", "status": 500})
    status_is(out, 400, "BadRequest")


def t_http_garbage_collection(env):
    ns = "/api/v1/namespaces/paging"
    dep = env.ok("POST", "/apis/apps/v1/namespaces/paging/deployments", {
        "metadata": {"name": "owner"}, "spec": {
            "selector": {"matchLabels": {"app": "o"}}, "template": {
                "metadata": {"labels": {"app": "o"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
    check(dep["spec"]["replicas"] == 1 and dep["metadata"]["generation"] == 1, dep)
    ref = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "owner",
            "uid": dep["metadata"]["uid"]}]
    for name in ("dep-a", "dep-b"):
        env.ok("POST", ns + "/configmaps", {"metadata": {"name": name, "ownerReferences": ref}})
    out = env.ok("DELETE", "/apis/apps/v1/namespaces/paging/deployments/owner",
                 {"propagationPolicy": "Orphan"})
    check(out["metadata"]["finalizers"] == ["orphan"], out)
    cm = env.ok("GET", ns + "/configmaps/dep-a")
    check("ownerReferences" not in cm["metadata"], "orphaned dependent kept its owner ref")
    dep = env.ok("POST", "/apis/apps/v1/namespaces/paging/deployments", dict(
        dep, metadata={"name": "owner2"}))
    ref[0].update(name="owner2", uid=dep["metadata"]["uid"])
    env.ok("PATCH", ns + "/configmaps/dep-b", {"metadata": {"ownerReferences": ref}},
           "application/merge-patch+json")
    out = env.ok("DELETE", "/apis/apps/v1/namespaces/paging/deployments/owner2")
    check(out["kind"] == "Status" and out["status"] == "Success" and
          out["details"]["kind"] == "deployments", out)
    code, out = env.api("GET", ns + "/configmaps/dep-b")
    check(code == 404, "background deletion left the dependent")
    code, out = env.api("DELETE", "/apis/apps/v1/namespaces/paging/deployments/owner2")
    status_is(out, 404, "NotFound", 'deployments.apps "owner2" not found')


def t_http_concurrent_writes_and_watch(env):
    base = "/api/v1/namespaces/paging/configmaps"
    rv = env.ok("GET", base)["metadata"]["resourceVersion"]
    c, resp = env.watch(f"{base}?watch=1&resourceVersion={rv}&labelSelector=burst")
    errors = []

    def writer(n):
        conn = env.conn()
        for i in range(25):
            code, out = env.api("POST", base, {"metadata": {"name": f"burst-{n}-{i}",
                                                            "labels": {"burst": "1"}}}, conn=conn)
            if code != 201:
                errors.append(out)
        conn.close()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, errors[:2])
    rvs = []
    while len(rvs) < 100:
        ev = next_event(resp)
        check(ev and ev["type"] == "ADDED", ev)
        rvs.append(int(ev["object"]["metadata"]["resourceVersion"]))
    c.close()
    check(rvs == sorted(rvs) and len(set(rvs)) == 100, "events out of order")
    env.ok("DELETE", base + "?labelSelector=burst")
    check(env.ok("GET", base + "?labelSelector=burst")["items"] == [], "deletecollection")


def t_http_random_patches_do_not_crash(env):
    """Seeded random PATCH/PUT/DELETE bodies: every answer is a Status or an object."""
    rng = random.Random(1)
    frags = [None, 1, "s", [], {}, [1], [{"name": "c"}], [{"name": "c", "$patch": "delete"}],
             {"$patch": "replace"}, {"$retainKeys": ["a"]}, True, {"a": {"b": None}}]
    keys = ["spec", "metadata", "containers", "env", "ports", "labels", "data", "replicas",
            "status", "$setElementOrder/containers", "finalizers", "ownerReferences",
            "managedFields", "name", "resourceVersion", "template", "selector"]

    def rnd(depth=0):
        if depth > 3 or rng.random() < 0.3:
            return rng.choice(frags)
        return {rng.choice(keys): rnd(depth + 1) for _ in range(rng.randint(1, 3))}
    dep = {"metadata": {"name": "fuzz"}, "spec": {
        "selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    base = "/apis/apps/v1/namespaces/paging/deployments"
    types = ["application/merge-patch+json", "application/strategic-merge-patch+json",
             "application/apply-patch+yaml", "application/json-patch+json"]
    for _ in range(300):
        if env.api("GET", base + "/fuzz")[0] == 404:
            env.ok("POST", base, dep)
        path = base + "/fuzz" + rng.choice(["", "/status", "/scale"])
        ctype, body, method = rng.choice(types), rnd(), rng.choice(["PATCH", "PATCH", "PUT"])
        if ctype.startswith("application/apply"):
            path += "?fieldManager=m" + rng.choice(["1", "2"]) + rng.choice(["", "&force=true"])
            if isinstance(body, dict):
                body.update(apiVersion="apps/v1", kind="Deployment")
        elif ctype.startswith("application/json-patch"):
            body = [{"op": rng.choice(["add", "remove", "replace", "move", "test"]),
                     "path": rng.choice(["/spec/replicas", "/metadata/labels/a", "/x",
                                         "/spec/template/spec/containers/0"]),
                     "value": rng.choice(frags), "from": "/metadata/name"}]
        if method == "PUT":
            ctype = "application/json"
        code, out = env.api(method, path, body, ctype)
        check(code < 500, f"{method} {path} {ctype} {json.dumps(body)} -> {code} {out}")
        check(isinstance(out, dict) and out.get("kind") in ("Status", "Deployment", "Scale"),
              out)
        if rng.random() < 0.05:
            env.api("DELETE", base + "/fuzz", {"propagationPolicy": rng.choice(
                ["Foreground", "Orphan", "Background"])})


TESTS = [t_kubectl_client_side_apply, t_kubectl_strategic_merge, t_kubectl_get_yaml_matches,
         t_kubectl_api_resources, t_kubectl_server_side_apply, t_kubectl_watch_sees_update,
         t_kubectl_errors, t_kubectl_scale, t_kubectl_delete,
         t_http_auth, t_http_keepalive_and_bad_requests, t_http_errors, t_http_list_paging,
         t_http_watch_and_compaction, t_http_server_side_apply, t_http_faults,
         t_http_garbage_collection, t_http_concurrent_writes_and_watch,
         t_http_random_patches_do_not_crash]


def main():
    if not shutil.which("openssl"):
        print("kubectl_test: openssl not found")
        return 1
    tmp = tempfile.mkdtemp(prefix="kube-apiserver-test-")
    passed, failed = 0, 0
    started = time.monotonic()
    env = None
    try:
        env = Env(tmp)
        if not os.access(env.kubectl, os.X_OK):
            print(f"kubectl_test: kubectl not found at {env.kubectl} (set KUBECTL)")
        only = set(sys.argv[1:])
        for test in TESTS:
            if only and test.__name__ not in only:
                continue
            t0 = time.monotonic()
            try:
                test(env)
                passed += 1
                print(f"PASS {test.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
            except Exception as err:
                failed += 1
                print(f"FAIL {test.__name__}: {err}", flush=True)
                if not isinstance(err, Failed):
                    traceback.print_exc()
    finally:
        if env is not None:
            env.stop()
            log = open(env.path("server.log")).read()
            if log.strip():
                print("--- server stderr ---\n" + log)
                if "Traceback" in log:
                    failed += 1
                    print("FAIL the server logged a traceback")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"kubectl_test: {time.monotonic() - started:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
