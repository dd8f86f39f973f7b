#!/usr/bin/env python3
"""End-to-end tests of the real meshctl binary: exit codes, messages and output shapes.

Usage: meshctl_test.py MESHCTL SOURCE_DIR   (run by CTest)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

MESHCTL = None
SRC = None


def run(*args, stdin=None, cwd=None):
    p = subprocess.run([MESHCTL, *args], input=stdin, capture_output=True, cwd=cwd, timeout=120)
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

if __name__ == "__main__":
    MESHCTL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"])
