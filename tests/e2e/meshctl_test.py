#!/usr/bin/env python3
"""End-to-end tests of the real meshctl binary: exit codes, messages and output shapes.

Usage: meshctl_test.py MESHCTL SOURCE_DIR   (run by CTest)
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from harness import free_ports, gateway_yaml, service_yaml, wait_for, write_config  # noqa: E402

MESHCTL = None
SRC = None


# No cluster and no local mesh unless a test sets them up: analyze reads live config by default
# (--use-kube), and a developer's own kubeconfig or ~/.meshctl must not change the expectations.
ISOLATED_ENV = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
ISOLATED_ENV["KUBECONFIG"] = os.devnull
ISOLATED_ENV["MESH_HOME"] = os.path.join(tempfile.gettempdir(), f"meshctl-e2e-no-mesh-{os.getpid()}")


def run(*args, stdin=None, cwd=None, env=None):
    p = subprocess.run([MESHCTL, *args], input=stdin, capture_output=True, cwd=cwd, timeout=120,
                       env=env if env is not None else ISOLATED_ENV)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def expected_invalid():
    """testdata/invalid/expected.txt: 'file: first error line' pairs."""
    out = {}
    with open(os.path.join(SRC, "testdata/invalid/expected.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                out[line.split(":", 1)[0]] = line
    return out


class Validate(unittest.TestCase):
    def test_samples_are_valid(self):
        code, out, err = run("validate", "-f", "samples/bookinfo", cwd=SRC)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, '"samples/bookinfo" is valid\n')

    def test_valid_testdata(self):
        code, out, err = run("validate", "-f", "testdata/valid", cwd=SRC)
        self.assertEqual(code, 0, err)

    def test_every_invalid_file_fails_with_its_message(self):
        cases = expected_invalid()
        files = sorted(f for f in os.listdir(os.path.join(SRC, "testdata/invalid")) if f != "expected.txt")
        self.assertGreater(len(files), 0)
        for name in files:
            path = "testdata/invalid/" + name
            with self.subTest(file=name):
                self.assertIn(path, cases, "no expected line for " + path)
                code, out, err = run("validate", "-f", path, cwd=SRC)
                self.assertEqual(code, 65, err)
                self.assertIn("\t* " + cases[path] + "\n", err)
                self.assertEqual(out, "")

    def test_stdin(self):
        doc = b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
        code, out, err = run("validate", "-f", "-", stdin=doc)
        self.assertEqual((code, out), (0, "validation succeed\n"), err)

    def test_json_output(self):
        code, out, _ = run("validate", "-f", "testdata/invalid", "-o", "json", cwd=SRC)
        self.assertEqual(code, 65)
        report = json.loads(out)
        self.assertFalse(report["valid"])
        first = report["diagnostics"][0]
        self.assertEqual(set(first), {"severity", "file", "line", "column", "resource", "field", "message"})

    def test_usage_errors_exit_64(self):
        self.assertEqual(run("validate")[0], 64)
        self.assertEqual(run("validate", "-f", "x", "-o", "xml")[0], 64)
        self.assertEqual(run("no-such-command")[0], 64)

    def test_missing_file_is_an_error(self):
        code, _, err = run("validate", "-f", "/nonexistent/mesh.yaml")
        self.assertNotEqual(code, 0)
        self.assertIn("/nonexistent/mesh.yaml: no such file or directory", err)


class BadInput(unittest.TestCase):
    """Hostile and broken files: a clear error with file and line, exit 65, no crash."""

    def check(self, content, expect, line=None):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "in.yaml")
            with open(path, "wb") as f:
                f.write(content)
            code, out, err = run("validate", "-f", path)
            self.assertEqual(code, 65, err)
            self.assertIn(expect, err)
            if line is not None:
                self.assertIn(f"{path}:{line}:", err)
            return err

    def test_alias_bomb(self):
        lines = [b"a: &a [x,x,x,x,x,x,x,x,x,x]"]
        for i, c in enumerate("bcdefghij"):
            prev = "abcdefghij"[i]
            lines.append(f"{c}: &{c} [{','.join(['*' + prev] * 10)}]".encode())
        self.check(b"\n".join(lines) + b"\n", "through aliases")

    def test_deep_nesting(self):
        self.check(b"a: " + b"[" * 10000 + b"]" * 10000 + b"\n", "nesting deeper than 256 levels", line=1)

    def test_huge_scalar(self):
        self.check(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: " + b"x" * (50 << 20) + b"\n",
                   "over the limit of 4194304 bytes", line=5)

    def test_invalid_utf8(self):
        self.check(b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \xc3\x28\n", "invalid UTF-8", line=4)

    def test_tabs(self):
        self.check(b"apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n", "tab character", line=4)

    def test_duplicate_keys(self):
        self.check(b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n",
                   'duplicate key "name" (first defined at line 4)', line=5)

    def test_empty_file(self):
        self.check(b"", "no resources in file", line=1)
        self.check(b"# only a comment\n---\n", "no resources in file", line=1)

    def test_binary_file(self):
        self.check(b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary data", line=1)

    def test_missing_identity(self):
        self.check(b"kind: Namespace\nmetadata:\n  name: a\n", "apiVersion: required field is missing", line=1)
        self.check(b"apiVersion: v1\nkind: Namespace\nmetadata: {}\n", "metadata.name: required field is missing", line=3)

    def test_bom_and_crlf_are_fine(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ok.yaml")
            with open(path, "wb") as f:
                f.write(b"\xef\xbb\xbfapiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: shop\r\n")
            code, _, err = run("validate", "-f", path)
            self.assertEqual(code, 0, err)


class Analyze(unittest.TestCase):
    BROKEN = b"""apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  selector: {app: reviews}
  ports:
  - {name: http, port: 9080}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        subset: v9
"""

    def analyze_text(self, content, *args):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mesh.yaml")
            with open(path, "wb") as f:
                f.write(content)
            return run("analyze", *args, path), path

    def test_samples_are_clean(self):
        code, out, err = run("analyze", "-A", "samples/bookinfo", cwd=SRC)
        self.assertEqual((code, out), (0, ""), err)
        self.assertIn("No validation issues found when analyzing all namespaces", err)

    def test_broken_sample_reports_every_planted_mistake(self):
        code, out, _ = run("analyze", "-A", "samples/broken", "-o", "json", cwd=SRC)
        self.assertEqual(code, 0)
        got = sorted((m["code"], m["origin"]) for m in json.loads(out))
        self.assertEqual(got, sorted([
            ("IST0127", "AuthorizationPolicy shop/cart-readers"), ("IST0173", "DestinationRule shop/cart"),
            ("IST0101", "Gateway shop/shop-gateway"), ("IST0102", "Namespace shop"),
            ("IST0144", "Pod shop/cart-v1-5c7d9-abcde"), ("IST0118", "Service shop/cart"),
            ("IST0101", "VirtualService shop/cart"), ("IST0106", "VirtualService shop/cart"),
            ("IST0101", "VirtualService shop/checkout")]))

    def test_issue_found_exits_79_with_istioctl_line(self):
        (code, out, err), path = self.analyze_text(self.BROKEN, "-A")
        self.assertEqual(code, 79, err)
        self.assertIn(f'Error [IST0101] (VirtualService shop/reviews {path}:21) '
                      'Referenced host+subset in destinationrule not found: "reviews+v9"\n', out)

    def test_json_output_and_exit_0(self):
        (code, out, _), _ = self.analyze_text(self.BROKEN, "-A", "-o", "json")
        self.assertEqual(code, 0)
        msgs = json.loads(out)
        self.assertEqual([(m["code"], m["origin"]) for m in msgs if m["code"] == "IST0101"],
                         [("IST0101", "VirtualService shop/reviews")])
        self.assertEqual(set(msgs[0]), {"code", "documentationUrl", "level", "message", "origin", "reference"})

    def test_namespace_filter_and_suppression(self):
        (code, out, _), _ = self.analyze_text(self.BROKEN, "-n", "other")
        self.assertEqual((code, out), (0, ""))
        (code, out, _), _ = self.analyze_text(self.BROKEN, "-A", "-S", "IST0101=VirtualService reviews.shop")
        self.assertEqual(code, 0)
        self.assertNotIn("IST0101", out)

    def test_list_analyzers(self):
        code, out, _ = run("analyze", "-L")
        self.assertEqual(code, 0)
        self.assertIn("* virtualservice.DestinationRuleAnalyzer:\n    ", out)
        self.assertIn("* schema.ValidationAnalyzer.VirtualService:\n", out)

    def test_synthetic_mesh_injected_mistakes_found_and_nothing_else(self):
        with tempfile.TemporaryDirectory() as d:
            mesh = os.path.join(d, "mesh")
            subprocess.run([sys.executable, os.path.join(SRC, "bench/gen_mesh.py"), mesh, "--services", "200",
                            "--namespaces", "10", "--pods", "--mistakes", "15"], check=True)
            code, out, err = run("analyze", "-A", "-R", mesh, "-o", "json")
            self.assertEqual(code, 0, err)
            with open(mesh + ".expected.json", encoding="utf-8") as f:
                want = sorted((m["code"], m["origin"]) for m in json.load(f))
            got = sorted((m["code"], m["origin"]) for m in json.loads(out))
            self.assertEqual(len(want), 15)
            self.assertEqual(got, want)

    def test_unknown_analyzer_is_a_usage_error(self):
        self.assertEqual(run("analyze", "--analyzer", "nope", "-A")[0], 64)


class AnalyzeLive(unittest.TestCase):
    """--use-kube (the default): the local mesh's store is analyzed with the files; a file
    replaces the live object it names; --use-kube=false reads files only."""

    LIVE = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart.shop.svc.cluster.local]
  http: [{route: [{destination: {host: nowhere.shop.svc.cluster.local}}]}]
"""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="meshctl-analyze-live-")
        os.makedirs(os.path.join(self.home, "config", "shop"))
        with open(os.path.join(self.home, "config", "shop", "virtualservice-cart.yaml"), "w") as f:
            f.write(self.LIVE)
        self.env = dict(ISOLATED_ENV, MESH_HOME=self.home)

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def test_live_local_mesh_is_analyzed(self):
        code, out, _ = run("analyze", "-A", "-o", "json", env=self.env)
        self.assertEqual(code, 0)
        found = [(m["code"], m["origin"]) for m in json.loads(out)]
        self.assertIn(("IST0101", "VirtualService shop/cart"), found)

    def test_files_replace_live_objects_and_use_kube_false_ignores_them(self):
        fixed = self.LIVE.replace("nowhere.shop", "cart.shop") + """---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  ports: [{name: http, port: 80}]
"""
        code, out, _ = run("analyze", "-A", "-o", "json", "-", stdin=fixed.encode(), env=self.env)
        self.assertEqual(code, 0)
        self.assertNotIn("VirtualService shop/cart", [m.get("origin") for m in json.loads(out)])
        code, out, _ = run("analyze", "-A", "--use-kube=false", "-o", "json", env=self.env)
        self.assertEqual((code, json.loads(out)), (0, []))


class Version(unittest.TestCase):
    def test_shapes(self):
        code, out, _ = run("version", "-o", "json")
        self.assertEqual(code, 0)
        self.assertIn("version", json.loads(out)["clientVersion"])
        code, out, _ = run("version", "--short")
        self.assertRegex(out, r"^\d+\.\d+\.\d+\n$")
        self.assertTrue(run("version")[1].startswith("client version: "))


class Completion(unittest.TestCase):
    def test_scripts_match_committed_files(self):
        for shell, name in (("bash", "meshctl.bash"), ("zsh", "_meshctl"), ("fish", "meshctl.fish")):
            code, out, _ = run("completion", shell)
            self.assertEqual(code, 0)
            with open(os.path.join(SRC, "completions", name), encoding="utf-8") as f:
                self.assertEqual(out, f.read(), shell)

    def test_bash_script_loads_and_completes(self):
        script = os.path.join(SRC, "completions/meshctl.bash")
        probe = (f"source {script}; COMP_WORDS=(meshctl val); COMP_CWORD=1; _meshctl; echo ${{COMPREPLY[@]}};"
                 "COMP_WORDS=(meshctl validate -o ''); COMP_CWORD=3; _meshctl; echo ${COMPREPLY[@]}")
        p = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
        self.assertEqual(p.stdout.split("\n")[:2], ["validate", "json"], p.stderr)



def yaml_documents(text):
    """Splits a `---` stream into documents (each kept as text)."""
    docs, cur = [], []
    for line in text.splitlines(keepends=True):
        if line == "---\n":
            docs.append("".join(cur))
            cur = []
        else:
            cur.append(line)
    docs.append("".join(cur))
    return [d for d in docs if d.strip()]


OVERLAY_BAD_PATH = b"""apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  components:
    pilot:
      enabled: true
    ingressGatewayz:
    - name: x
"""


class Manifest(unittest.TestCase):
    def test_generate_is_byte_identical_across_runs(self):
        first = run("manifest", "generate", "--set", "profile=demo")
        second = run("manifest", "generate", "--set", "profile=demo")
        self.assertEqual(first[0], 0, first[2])
        self.assertEqual(first[1], second[1])
        self.assertGreater(len(first[1]), 1000)

    def test_every_document_is_a_named_kubernetes_object(self):
        code, out, err = run("manifest", "generate", "-p", "demo")
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"))
        kinds = set()
        for doc in yaml_documents(out):
            self.assertRegex(doc, r"^apiVersion: \S+\nkind: \w+\nmetadata:\n  name: \S+\n")
            kinds.add(re.search(r"(?m)^kind: (\w+)$", doc).group(1))
        self.assertTrue({"CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "ConfigMap",
                         "Deployment", "Service"} <= kinds, kinds)
        # meshctl's own checks: Deployments, Services and Namespaces against their schemas,
        # and every analyzer over the lot.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "install.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)
            code, vout, err = run("validate", "-f", path)
            self.assertEqual((code, vout), (0, f'"{path}" is valid\n'), err)
            code, aout, err = run("analyze", "-A", path)
            self.assertEqual((code, aout), (0, ""), err)

    def test_kubectl_reads_the_manifests_offline(self):
        # `kubectl create --dry-run=client` needs a server for discovery even with
        # --validate=false; `kubectl kustomize` parses every object offline (and refuses
        # duplicates), so it is the real client's check that works without a cluster.
        if shutil.which("kubectl") is None:
            self.skipTest("kubectl is not installed")
        code, out, err = run("manifest", "generate", "-p", "demo")
        self.assertEqual(code, 0, err)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "install.yaml"), "w", encoding="utf-8") as f:
                f.write(out)
            with open(os.path.join(d, "kustomization.yaml"), "w", encoding="utf-8") as f:
                f.write("resources:\n- install.yaml\n")
            p = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "KUBECONFIG": os.devnull})
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(len(yaml_documents(p.stdout)), len(yaml_documents(out)))

    def test_set_hub_changes_the_images(self):
        code, out, err = run("manifest", "generate", "--set", "values.global.hub=registry.example.com/mesh",
                             "--set", "tag=1.20")
        self.assertEqual(code, 0, err)
        images = sorted(set(re.findall(r"(?m)^\s+image: (\S+)$", out)))
        self.assertEqual(images, ["registry.example.com/mesh/meshd:1.20", "registry.example.com/mesh/meshproxy:1.20"])

    def test_overlay_with_a_bad_path_names_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "overlay.yaml")
            with open(path, "wb") as f:
                f.write(OVERLAY_BAD_PATH)
            code, out, err = run("manifest", "generate", "-f", path)
            self.assertEqual((code, out), (65, ""), err)
            self.assertIn(f'{path}:7:5: spec.components: unknown field "ingressGatewayz" '
                          '(did you mean "ingressGateways"?)', err)

    def test_unknown_set_path_is_a_usage_error(self):
        code, _, err = run("manifest", "generate", "--set", "foo.bar=1")
        self.assertEqual(code, 64)
        self.assertIn('--set foo.bar=1: unknown field "foo" in spec', err)

    def test_output_dir_one_file_per_component(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run("manifest", "generate", "-p", "demo", "-o", d)
            self.assertEqual(code, 0, err)
            files = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
            self.assertEqual(files, ["Base/Base.yaml", "EgressGateways/EgressGateways.yaml",
                                     "IngressGateways/IngressGateways.yaml", "Pilot/Pilot.yaml"])
            with open(os.path.join(d, "Pilot/Pilot.yaml"), encoding="utf-8") as f:
                pilot = f.read()
            self.assertIn("operator.istio.io/component: Pilot", pilot)
            self.assertNotIn("operator.istio.io/component: Base", pilot)

    def test_ambient_is_refused_by_component(self):
        code, _, err = run("manifest", "generate", "--set", "profile=ambient")
        self.assertEqual(code, 65)
        self.assertIn("spec.components.ztunnel.enabled: meshctl has no ztunnel", err)


class Profile(unittest.TestCase):
    def test_list(self):
        code, out, _ = run("profile", "list")
        self.assertEqual(code, 0)
        self.assertEqual(out, "Istio configuration profiles:\n    ambient\n    default\n    demo\n    empty\n"
                              "    minimal\n    remote\n")

    def test_dump_demo(self):
        code, out, err = run("profile", "dump", "demo")
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n"))
        self.assertIn("accessLogFile: /dev/stdout", out)
        code, out, _ = run("profile", "dump", "demo", "--config-path", "values.global.hub")
        self.assertEqual((code, out), (0, "ghcr.io/meshctl\n"))
        code, out, _ = run("profile", "dump", "demo", "-o", "json", "-p", "components.pilot")
        self.assertEqual(code, 0)
        self.assertTrue(json.loads(out)["enabled"])

    def test_diff_exit_codes(self):
        code, out, _ = run("profile", "diff", "default", "default")
        self.assertEqual((code, out), (0, "Profiles are identical\n"))
        code, out, _ = run("profile", "diff", "default", "demo")
        self.assertEqual(code, 1)
        self.assertTrue(out.startswith("The difference between profiles:\n--- default\n+++ demo\n@@ "))
        self.assertIn("\n-    accessLogFile: \"\"\n+    accessLogFile: /dev/stdout\n", out)
        code, _, err = run("profile", "diff", "default", "nope")
        self.assertEqual(code, 65)
        self.assertIn('unknown profile "nope"', err)


def http_get(port, path):
    """(status, body) of GET http://127.0.0.1:port/path, never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def pid_alive(pid):
    """Alive and not a zombie (a killed meshd whose parent, meshctl, is gone may linger as one)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def snapshot(directory):
    """Every file under directory with its bytes."""
    out = {}
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, directory)] = f.read()
    return out


INVALID_VS = b"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments-api
  namespace: payments
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  http:
  - route:
    - destination: {host: payments-api.payments.svc.cluster.local}
      weight: -10
"""


class LocalMesh(unittest.TestCase):
    """install --local, verify-install, apply/delete and uninstall with the real meshd, each test in
    its own mesh home on free ports; every process started is killed at the end, pass or fail."""

    @classmethod
    def setUpClass(cls):
        build = os.path.dirname(os.path.dirname(MESHCTL))
        cls.meshd = os.path.join(build, "controlplane", "meshd")
        cls.meshproxy = os.path.join(build, "proxy", "meshproxy")
        if not os.access(cls.meshd, os.X_OK):
            raise unittest.SkipTest(f"meshd is not built at {cls.meshd} (the build-tree sibling of meshctl)")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="meshctl-local-")
        self.home = os.path.join(self.tmp, "mesh")
        self.xds, self.mon, self.debug, self.ca = free_ports(4)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MESHCTL_MESHD", "MESHCTL_MESHPROXY", "KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
        self.env["MESH_HOME"] = self.home
        self.env["HOME"] = self.tmp  # no ~/.kube/config: the local mesh is the default here

    def tearDown(self):
        run_dir = os.path.join(self.home, "run")
        if os.path.isdir(run_dir):
            for name in os.listdir(run_dir):
                if not name.endswith(".pid"):
                    continue
                try:
                    with open(os.path.join(run_dir, name)) as f:
                        pid = int(f.read().strip())
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        mine = self.home.encode() in f.read()
                    if mine:
                        os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def meshctl(self, *args, stdin=None, env=None):
        return run(*args, stdin=stdin, cwd=SRC, env=env or self.env)

    def ports(self):
        return ["--set", f"values.local.xdsPort={self.xds}", "--set", f"values.local.monitoringPort={self.mon}",
                "--set", f"values.local.debugPort={self.debug}", "--set", f"values.local.caPort={self.ca}"]

    def install(self, *extra):
        code, out, err = self.meshctl("install", "--local", "-y", *self.ports(), *extra)
        self.assertEqual(code, 0, out + err)
        return out

    def meshd_pid(self):
        with open(os.path.join(self.home, "run", "meshd.pid")) as f:
            return int(f.read())

    def generation(self):
        status, body = http_get(self.mon, "/debug/config_errors")
        self.assertEqual(status, 200)
        return json.loads(body)

    def wait_for_generation_after(self, before):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = self.generation()
            if now["generation"] > before:
                return now
            time.sleep(0.05)
        self.fail(f"meshd did not load the change (config generation still {before})")

    def test_install_is_ready_idempotent_restarts_after_a_crash_and_uninstalls(self):
        out = self.install("-p", "minimal")
        self.assertRegex(out, r"(?m)^✔ meshd: started \(pid \d+, ready in [\d.]+s\)$")
        self.assertIn("✔ Installation complete", out)
        # install returns only once meshd is ready
        self.assertEqual(http_get(self.mon, "/ready")[0], 200)
        pid = self.meshd_pid()
        self.assertTrue(pid_alive(pid))
        with open(os.path.join(self.home, "state.yaml")) as f:
            state = f.read()
        self.assertIn("profile: minimal", state)
        self.assertIn(f"monitoring: {self.mon}", state)

        code, out, err = self.meshctl("verify-install", "--local")
        self.assertEqual(code, 0, out + err)
        self.assertIn(f"✔ meshd is running (pid {pid})", out)
        self.assertIn(f"✔ meshd is ready (GET http://127.0.0.1:{self.mon}/ready)", out)
        self.assertIn(f"✔ meshd's debug API answers on 127.0.0.1:{self.debug}", out)
        self.assertIn("✔ meshd reports no config errors", out)
        self.assertTrue(out.endswith("Status check results are ✔\n"), out)

        # again: a no-op
        with open(os.path.join(self.home, "state.yaml")) as f:
            before = f.read()
        out = self.install("-p", "minimal")
        self.assertIn(f"✔ meshd: already running (pid {pid})", out)
        self.assertIn("✔ Installation complete (nothing changed)", out)
        self.assertEqual(self.meshd_pid(), pid)
        with open(os.path.join(self.home, "state.yaml")) as f:
            self.assertEqual(f.read(), before)

        # a crash: verify-install names meshd and fails; install restarts it
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        code, out, err = self.meshctl("verify-install", "--local")
        self.assertEqual(code, 69, out + err)
        self.assertIn("✘ meshd is running\n", out)
        self.assertIn(f"pid {pid} (from {self.home}/run/meshd.pid) is not running", out)
        self.assertIn("run `meshctl install --local` to start it again", out)
        self.assertTrue(out.endswith("Status check results are ✘\n"), out)
        out = self.install("-p", "minimal")
        self.assertRegex(out, r"(?m)^✔ meshd: restarted \(was not running; pid \d+, ready in [\d.]+s\)$")
        new_pid = self.meshd_pid()
        self.assertNotEqual(new_pid, pid)
        self.assertEqual(http_get(self.mon, "/ready")[0], 200)

        # uninstall stops it and removes the state; config/ stays
        code, out, err = self.meshctl("uninstall", "--local", "-y")
        self.assertEqual(code, 0, out + err)
        self.assertIn(f"✔ meshd: stopped (pid {new_pid})", out)
        deadline = time.monotonic() + 10
        while pid_alive(new_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(pid_alive(new_pid))
        self.assertEqual(sorted(os.listdir(self.home)), [".meshctl-created", "ca", "config"])
        code, out, err = self.meshctl("uninstall", "--local", "-y")
        self.assertEqual((code, out), (0, f"nothing to uninstall in {self.home}\n"), err)
        code, out, err = self.meshctl("uninstall", "--local", "-y", "--purge")
        self.assertEqual(code, 0, out + err)
        self.assertFalse(os.path.exists(self.home))

    def test_apply_validates_writes_atomically_and_meshd_loads_it(self):
        self.install("-p", "minimal")
        config = os.path.join(self.home, "config")
        before = self.generation()["generation"]

        code, out, err = self.meshctl("apply", "--local", "-f", "samples/payments")
        self.assertEqual(code, 0, err)
        self.assertIn("virtualservice.networking.istio.io/payments-api created\n", out)
        self.assertIn("namespace/payments created\n", out)
        self.assertTrue(os.path.isfile(os.path.join(config, "payments", "virtualservice-payments-api.yaml")))
        loaded = self.wait_for_generation_after(before)
        self.assertEqual(loaded["errors"], [])
        code, out, _ = self.meshctl("apply", "--local", "-f", "samples/payments")
        self.assertEqual(code, 0)
        self.assertIn("virtualservice.networking.istio.io/payments-api unchanged\n", out)

        # an invalid file: validate's messages, exit 65, and not one byte changes
        files_before = snapshot(config)
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "wb") as f:
            f.write(INVALID_VS)
        code, out, err = self.meshctl("apply", "--local", "-f", "samples/payments/services.yaml", "-f", bad)
        self.assertEqual((code, out), (65, ""), err)
        self.assertIn(f"\t* {bad}:11:15: VirtualService payments-api.payments: spec.http[0].route[0].weight: "
                      "weight -10 must not be negative", err)
        self.assertEqual(snapshot(config), files_before)

        # delete: kubectl's lines; missing objects are NotFound (exit 1) unless ignored
        before = self.generation()["generation"]
        code, out, err = self.meshctl("delete", "--local", "-f", "samples/payments/traffic.yaml")
        self.assertEqual(code, 0, err)
        self.assertIn('virtualservice.networking.istio.io "payments-api" deleted\n', out)
        self.assertFalse(os.path.exists(os.path.join(config, "payments", "virtualservice-payments-api.yaml")))
        self.wait_for_generation_after(before)
        code, out, err = self.meshctl("delete", "--local", "-f", "samples/payments/traffic.yaml")
        self.assertEqual(code, 1)
        self.assertIn('Error from server (NotFound): error when deleting "samples/payments/traffic.yaml": '
                      'virtualservices.networking.istio.io "payments-api" not found', err)
        code, _, err = self.meshctl("delete", "--local", "-f", "samples/payments/traffic.yaml", "--ignore-not-found")
        self.assertEqual(code, 0, err)

        code, out, err = self.meshctl("verify-install", "--local")
        self.assertEqual(code, 0, out + err)
        self.assertIn("✔ config directory is readable (", out)

        # config put there behind meshctl's back that meshd leaves out: verify-install lists it
        stray = os.path.join(config, "stray.yaml")
        with open(stray, "wb") as f:
            f.write(INVALID_VS)
        deadline = time.monotonic() + 30
        while not self.generation()["errors"] and time.monotonic() < deadline:
            time.sleep(0.05)
        code, out, err = self.meshctl("verify-install", "--local")
        self.assertEqual(code, 69, out + err)
        self.assertIn("✘ meshd reports no config errors (1 found)\n", out)
        self.assertIn(f"    {stray}:11: VirtualService payments-api.payments: spec.http[0].route[0].weight: "
                      "weight -10 must not be negative\n", out)

    def test_demo_profile_runs_gateways_that_serve_traffic(self):
        if not os.access(self.meshproxy, os.X_OK):
            self.skipTest(f"meshproxy is not built at {self.meshproxy}")
        in_admin, in_status, out_admin, out_status, gw_port, backend_port, in_prom, out_prom = free_ports(8)
        gateways = ["--set", f"values.local.gateways.istio-ingressgateway.adminPort={in_admin}",
                    "--set", f"values.local.gateways.istio-ingressgateway.statusPort={in_status}",
                    "--set", f"values.local.gateways.istio-ingressgateway.prometheusPort={in_prom}",
                    "--set", f"values.local.gateways.istio-egressgateway.adminPort={out_admin}",
                    "--set", f"values.local.gateways.istio-egressgateway.statusPort={out_status}",
                    "--set", f"values.local.gateways.istio-egressgateway.prometheusPort={out_prom}"]
        out = self.install("-p", "demo", *gateways)
        self.assertRegex(out, r"✔ istio-ingressgateway: started \(pid \d+, ready in")
        self.assertRegex(out, r"✔ istio-egressgateway: started \(pid \d+, ready in")
        code, out, err = self.meshctl("verify-install", "--local")
        self.assertEqual(code, 0, out + err)
        self.assertIn(f"✔ istio-ingressgateway is ready (GET http://127.0.0.1:{in_status}/healthz/ready)", out)
        # Each gateway serves its metrics on its own Prometheus port (15090's role).
        for port in (in_prom, out_prom):
            self.assertEqual(http_get(port, "/stats/prometheus")[0], 200)
        # Ready means it holds its workload certificate from the local meshd's CA.
        code, out, err = self.meshctl("proxy-config", "secret", "--admin", f"http://127.0.0.1:{in_admin}")
        self.assertEqual(code, 0, out + err)
        self.assertRegex(out, r"\ndefault +Cert Chain +ACTIVE +true ")
        self.assertRegex(out, r"\nROOTCA +CA +ACTIVE +true ")
        # A Gateway selecting the ingress gateway's labels, routing to a backend on loopback.
        backend = subprocess.Popen([sys.executable, "-m", "http.server", str(backend_port), "--bind", "127.0.0.1",
                                    "--directory", os.path.join(SRC, "samples")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            write_config(self.tmp, service_yaml("samples", "edge", backend_port),
                         gateway_yaml(gw_port, "samples.example.com", [(None, "samples.edge.svc.cluster.local")]))
            config = os.path.join(self.tmp, "edge.yaml")
            code, out, err = self.meshctl("apply", "--local", "-f", config)
            self.assertEqual(code, 0, out + err)
            code, out, err = self.meshctl("wait", "vs/edge.edge", "--timeout", "20s")
            self.assertEqual(code, 0, out + err)

            def through_gateway():
                req = urllib.request.Request(f"http://127.0.0.1:{gw_port}/payments/README.md",
                                             headers={"Host": "samples.example.com"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    return r.status, r.read().decode(), r.headers.get("server")
            answer = wait_for("the ingress gateway to answer", through_gateway, timeout=20, interval=0.1)
            status, body, server = answer
            self.assertEqual(status, 200)
            self.assertIn("canary scenario", body)
            self.assertEqual(server, "istio-envoy")
            code, out, err = self.meshctl("proxy-status")
            self.assertEqual(code, 0, out + err)
            self.assertIn("router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local", out)
        finally:
            backend.terminate()
            backend.wait()
        code, out, err = self.meshctl("uninstall", "--local", "-y")
        self.assertEqual(code, 0, out + err)

    def test_dry_run_and_unanswered_prompt_change_nothing(self):
        code, out, err = self.meshctl("install", "--local", "--dry-run", "-p", "minimal", *self.ports())
        self.assertEqual(code, 0, err)
        self.assertIn(f"meshd  control plane    127.0.0.1: xds {self.xds}, monitoring {self.mon}", out)
        self.assertIn("Dry run: nothing was started or written.", out)
        self.assertFalse(os.path.exists(self.home))
        # istioctl's prompt: no answer on stdin is a no
        code, out, err = self.meshctl("install", "--local", "-p", "minimal", *self.ports(), stdin=b"")
        self.assertEqual(code, 1)
        self.assertIn("Proceed? (y/N)", out)
        self.assertIn("Cancelled.", out)
        self.assertIn("pass -y", err)
        self.assertFalse(os.path.exists(self.home))

    def test_port_in_use_is_reported_with_a_hint(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", self.mon))
            s.listen(1)
            code, out, err = self.meshctl("install", "--local", "-y", "-p", "minimal", *self.ports())
        self.assertEqual(code, 69, out + err)
        self.assertIn(f"✘ meshd: port {self.mon} (monitoring) on 127.0.0.1 is in use by another program", out)
        self.assertIn(f"--set values.local.monitoringPort=PORT", out)
        self.assertFalse(os.path.exists(os.path.join(self.home, "run", "meshd.pid")))

    def test_a_configured_cluster_needs_local(self):
        kubeconfig = os.path.join(self.tmp, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\n")
        env = dict(self.env, KUBECONFIG=kubeconfig)
        for args in (["apply", "-f", "samples/payments"],):
            code, out, err = self.meshctl(*args, env=env)
            self.assertEqual(code, 69, args)
            self.assertIn(f"a Kubernetes cluster is configured (KUBECONFIG={kubeconfig})", err)
            self.assertIn("--local", err)
        # install, verify-install and uninstall act on the cluster (tests/e2e/cluster_install_test.py);
        # a kubeconfig without contexts is a clear error that points at --local.
        for args in (["install", "-y"], ["verify-install"], ["uninstall", "-y"]):
            code, out, err = self.meshctl(*args, env=env)
            self.assertEqual(code, 64, (args, out, err))
            self.assertIn(f"KUBECONFIG={kubeconfig} holds no contexts", err)
            self.assertIn("--local", err)

    def test_apply_needs_a_mesh_home(self):
        code, _, err = self.meshctl("apply", "--local", "-f", "samples/payments")
        self.assertEqual(code, 69)
        self.assertIn(f"there is no local mesh in {self.home}", err)
        self.assertIn("meshctl install --local", err)


if __name__ == "__main__":
    MESHCTL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
