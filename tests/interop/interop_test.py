#!/usr/bin/env python3
"""meshd with real proxyless xDS clients: gRPC C++'s built-in xDS resolver (xds_client) and
Node's @grpc/grpc-js-xds (node_client.js), routing calls to two echo servers by Istio config.

Usage: interop_test.py MESHD ECHO_SERVER XDS_CLIENT [unittest args]   (CTest: xds_interop)

meshd runs in local mode on a config directory this test writes and rewrites:
    meshd --config-dir DIR --xds-address 127.0.0.1:P --monitoring-address 127.0.0.1:Q \
          --debounce 100ms
If meshd exits 69 ("no xDS server built yet") every case is skipped and the exit status is 77,
which CTest reports as Skipped. Any other exit before /ready answers 200 is a failure.
Set INTEROP_KEEP=1 to keep the temporary directory (config, bootstraps, logs).
"""
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from importing our helpers
import harness  # noqa: E402
from bootstrap import write_bootstrap  # noqa: E402

MESHD = ECHO_SERVER = XDS_CLIENT = None
MESHD_NOT_BUILT = False

HOST = "payments-api.payments.svc.cluster.local"
TARGET = f"xds:///{HOST}:8080"
DEBOUNCE = "100ms"
# After a config write, how long until a new client surely gets the new config: meshd's
# debounce plus generation, with a wide margin. Case (f) checks the same bound from a client.
SETTLE_S = 1.0
# Case (f): traffic must have moved this long after the write.
SHIFT_BOUND_S = 1.0

SERVICE_ENTRY = f"""\
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: payments-api
  namespace: payments
spec:
  hosts:
  - {HOST}
  location: MESH_INTERNAL
  ports:
  - number: 8080
    name: grpc
    protocol: GRPC
  resolution: STATIC
  workloadSelector:
    labels:
      app: payments-api
"""

WORKLOAD_ENTRY = """\
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata:
  name: payments-{version}
  namespace: payments
spec:
  address: 127.0.0.1
  labels:
    app: payments-api
    version: {version}
  ports:
    grpc: {port}
"""

# v1 and v2 are the subsets under test; `flaky` (an echo server failing every second call)
# only takes traffic in the retry case.
DESTINATION_RULE = f"""\
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: payments-api
  namespace: payments
spec:
  host: {HOST}
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: flaky
    labels:
      version: flaky
"""


def virtual_service(*http_routes):
    """A VirtualService for HOST whose spec.http holds the given YAML fragments in order."""
    body = "".join(http_routes)
    return f"""\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: payments-api
  namespace: payments
spec:
  hosts:
  - {HOST}
  http:
{body}"""


def dest(subset, weight=None):
    w = f"\n      weight: {weight}" if weight is not None else ""
    return f"""\
    - destination:
        host: {HOST}
        subset: {subset}{w}
"""


CANARY_HEADER_ROUTE = f"""\
  - name: canary
    match:
    - headers:
        x-test-cohort:
          exact: canary
    route:
{dest("v2")}"""

SPLIT_90_10 = virtual_service(CANARY_HEADER_ROUTE, f"""\
  - name: default
    route:
{dest("v1", 90)}{dest("v2", 10)}""")

ALL_V2 = virtual_service(f"""\
  - name: default
    route:
{dest("v2")}""")


def fault_abort(abort_field):
    return virtual_service(f"""\
  - name: default
    fault:
      abort:
        percentage:
          value: 100
        {abort_field}
    route:
{dest("v1")}""")


def to_flaky(retries):
    return virtual_service(f"""\
  - name: default
    route:
{dest("flaky")}    retries:
{retries}""")


NO_RETRIES = to_flaky("      attempts: 0\n")  # explicit: Istio's default policy would retry
RETRY_UNAVAILABLE = to_flaky("      attempts: 3\n      retryOn: unavailable\n")


class Mesh:
    """Echo servers, the config directory and meshd for the whole module."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="xds-interop-")
        self.config_dir = os.path.join(self.tmp, "config")
        os.mkdir(self.config_dir)
        self.procs = harness.Processes(self.tmp)
        self.client_ids = itertools.count(1)

    def start(self):
        def echo(name, *flags):
            return harness.start_echo(self.procs, ECHO_SERVER, name, *flags)

        ports = {"v1": echo("payments-v1"), "v2": echo("payments-v2"),
                 # Fails calls 2, 4, 6...: without retries half the calls fail, with a retry none.
                 "flaky": echo("payments-flaky", "--fail-rate", "0.5")}
        self.write("service-entry.yaml", SERVICE_ENTRY)
        self.write("workload-entries.yaml", "".join(
            WORKLOAD_ENTRY.format(version=v, port=p) for v, p in ports.items()))
        self.write("destination-rule.yaml", DESTINATION_RULE)
        self.write("virtual-service.yaml", SPLIT_90_10)

        self.xds_address = f"127.0.0.1:{harness.free_port()}"
        self.monitoring = f"127.0.0.1:{harness.free_port()}"
        meshd = self.procs.start("meshd", [
            MESHD, "--config-dir", self.config_dir, "--xds-address", self.xds_address,
            "--monitoring-address", self.monitoring, "--debug-address", "127.0.0.1:0",
            "--debounce", DEBOUNCE])
        self.wait_ready(meshd)
        self.preflight()

    def wait_ready(self, meshd, timeout_s=30):
        global MESHD_NOT_BUILT
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code = meshd.poll()
            if code == 69:
                MESHD_NOT_BUILT = True
                raise unittest.SkipTest("meshd exited 69: its xDS server is not built yet")
            if code is not None:
                raise RuntimeError(f"meshd exited {code} before it was ready:\n"
                                   f"{self.procs.log_tail('meshd')}")
            try:
                with urllib.request.urlopen(f"http://{self.monitoring}/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet, or not ready (503)
            time.sleep(0.1)
        raise RuntimeError(f"meshd not ready on http://{self.monitoring}/ready after "
                           f"{timeout_s} s:\n{self.procs.log_tail('meshd')}")

    def preflight(self):
        """One call through meshd before any case: if routing does not work at all, say so
        once, quickly, instead of every case waiting out its deadlines. The deadline is past
        the 15 s after which gRPC C++ reports a resource it never received by name."""
        out, _, _ = harness.Client("cpp", XDS_CLIENT).run(
            TARGET, "--calls", "1", "--deadline-ms", "20000", bootstrap=self.bootstrap())
        if out["codes"] != {"OK": 1}:
            raise RuntimeError(f"meshd is ready, but gRPC C++ cannot call {TARGET} through it: "
                               f"{out['errors']}\nmeshd log:\n{self.procs.log_tail('meshd')}")

    def write(self, name, text):
        """Replaces a config file atomically (rename), as editors and kubelet's ConfigMap
        writer do; the dot-file temporary is ignored by meshd's directory watcher."""
        tmp = os.path.join(self.config_dir, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(self.config_dir, name))

    def apply_virtual_service(self, text):
        self.write("virtual-service.yaml", text)
        time.sleep(SETTLE_S)

    def bootstrap(self):
        """A fresh bootstrap per client run: each client is its own node, as in a real mesh."""
        n = next(self.client_ids)
        return write_bootstrap(os.path.join(self.tmp, f"bootstrap-{n}.json"), self.xds_address,
                               name=f"client-{n}", namespace="default")

    def close(self):
        self.procs.stop_all()
        if os.environ.get("INTEROP_KEEP"):
            print(f"kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


MESH = None


def setUpModule():
    global MESH
    MESH = Mesh()
    try:
        MESH.start()
    except BaseException:
        MESH.close()  # tearDownModule does not run when setUpModule fails
        raise


def tearDownModule():
    MESH.close()


class XdsInterop(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.clients = [harness.Client("cpp", XDS_CLIENT), harness.Client("node", XDS_CLIENT)]

    def run_client(self, client, *flags):
        out, _, _ = client.run(TARGET, *flags, bootstrap=MESH.bootstrap())
        return out

    def test_a_basic_resolution(self):
        MESH.apply_virtual_service(SPLIT_90_10)
        for client in self.clients:
            with self.subTest(client=client):
                out = self.run_client(client, "--calls", "50")
                self.assertEqual(out["codes"], {"OK": 50}, out["errors"])
                self.assertLessEqual(set(out["servers"]), {"payments-v1", "payments-v2"})

    def test_b_weighted_split_90_10(self):
        MESH.apply_virtual_service(SPLIT_90_10)
        for client in self.clients:
            with self.subTest(client=client):
                out = self.run_client(client, "--calls", "1000")
                self.assertEqual(out["codes"], {"OK": 1000}, out["errors"])
                self.assertEqual(set(out["servers"]), {"payments-v1", "payments-v2"}, out)
                v1_share = out["servers"]["payments-v1"] / 10  # percent of 1,000
                # ±4 points is over 4 standard deviations of a fair 90/10 draw over 1,000 calls.
                self.assertLessEqual(abs(v1_share - 90), 4, f"v1 got {v1_share}%: {out['servers']}")
                print(f"\n{client}: {out['servers']} over 1,000 calls", file=sys.stderr)

    def test_c_header_match_overrides_split(self):
        MESH.apply_virtual_service(SPLIT_90_10)
        for client in self.clients:
            with self.subTest(client=client):
                out = self.run_client(client, "--calls", "200", "--header", "x-test-cohort=canary")
                self.assertEqual(out["codes"], {"OK": 200}, out["errors"])
                self.assertEqual(out["servers"], {"payments-v2": 200})

    def test_d_fault_abort(self):
        # httpStatus 503 reaches gRPC clients as UNAVAILABLE (gRPC's HTTP-to-status mapping);
        # grpcStatus is passed through as the code it names.
        for abort, code in [("httpStatus: 503", "UNAVAILABLE"),
                            ("grpcStatus: RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED")]:
            MESH.apply_virtual_service(fault_abort(abort))
            for client in self.clients:
                with self.subTest(client=client, abort=abort):
                    out = self.run_client(client, "--calls", "50")
                    self.assertEqual(out["codes"], {code: 50}, out["errors"])

    def test_e_retries_on_unavailable(self):
        # Without retries half the calls to the flaky server fail: proof that the server
        # fails and that the retried run below passes because of the retry policy.
        MESH.apply_virtual_service(NO_RETRIES)
        for client in self.clients:
            with self.subTest(client=client, retries=0):
                out = self.run_client(client, "--calls", "100")
                self.assertEqual(out["codes"], {"OK": 50, "UNAVAILABLE": 50}, out["errors"])
        MESH.apply_virtual_service(RETRY_UNAVAILABLE)
        for client in self.clients:
            with self.subTest(client=client, retries=3):
                out = self.run_client(client, "--calls", "100")
                self.assertEqual(out["codes"], {"OK": 100}, out["errors"])
                self.assertEqual(out["servers"], {"payments-flaky": 100})

    def test_f_live_edit_shifts_traffic(self):
        for client in self.clients:
            with self.subTest(client=client):
                MESH.apply_virtual_service(SPLIT_90_10)
                self.check_live_shift(client)

    def check_live_shift(self, client):
        """Runs the client for a while, rewrites the VirtualService to 100% v2 once traffic
        flows, and checks every 100 ms window from SHIFT_BOUND_S after the write on is v2 only."""
        name = f"live-{client}"
        argv = client.command(TARGET, "--duration-s", "6", "--interval-ms", "5",
                              "--report-ms", "100")
        p = MESH.procs.start(name, argv, env=harness.client_env(MESH.bootstrap()),
                             stdout=harness.subprocess.PIPE)
        try:
            before, written_at, v1_calls = [], None, 0
            for line in p.stdout:  # one line per 100 ms window
                before.append(line)
                v1_calls += json.loads(line).get("servers", {}).get("payments-v1", 0)
                if v1_calls >= 20:  # the 90/10 split is serving: now move everything to v2
                    MESH.write("virtual-service.yaml", ALL_V2)
                    written_at = time.time()
                    break
            rest = p.stdout.read()
            self.assertEqual(p.wait(timeout=30), 0, MESH.procs.log_tail(name))
        finally:
            MESH.procs.stop(name)
        self.assertIsNotNone(written_at, "no v1 traffic before the end:\n" + "".join(before))
        summary, windows = harness.parse_output("".join(before) + rest)
        self.assertEqual(list(summary["codes"]), ["OK"], f"calls failed around the edit: {summary}")
        pre = sum(w["servers"].get("payments-v1", 0) for w in windows if w["end"] <= written_at)
        self.assertGreater(pre, 0, "no v1 traffic before the write")
        after = [w for w in windows if w["start"] >= written_at + SHIFT_BOUND_S]
        self.assertGreaterEqual(len(after), 10, "too few windows after the bound")
        late = [w for w in after if set(w["servers"]) - {"payments-v2"}]
        self.assertEqual(late, [], f"traffic not all on v2 {SHIFT_BOUND_S} s after the write")
        # For the log: when v1 traffic stopped, relative to the write.
        v1_ends = [w["end"] for w in windows if w["servers"].get("payments-v1")]
        shift = max(0.0, max(v1_ends) - written_at)
        print(f"\n{client}: last v1 call within {shift:.1f} s of the write", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    MESHD, ECHO_SERVER, XDS_CLIENT = sys.argv[1:4]
    result = unittest.main(argv=sys.argv[:1] + sys.argv[4:], verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    sys.exit(77 if MESHD_NOT_BUILT else 0)  # 77: CTest's SKIP_RETURN_CODE for this test
