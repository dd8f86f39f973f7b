#!/usr/bin/env python3
"""The payments sample as a local mesh on one host, without iptables: meshd (file backend),
payments-api v1 and v2 and orders (payments_app.py) each behind a meshproxy sidecar, and an
ingress gateway meshproxy. Used by samples/payments/run-local and tests/e2e/canary_test.py.

Each WorkloadEntry has its own loopback address (services.yaml): its sidecar listens there on
the workload port (--inbound-bind, virtualInbound's chains) and the app on 127.0.0.1 with the
same port (meshd's inbound cluster). Sidecars bind neither 15001 nor 15006 (--listener-bind
...=none); orders reaches payments-api through its sidecar's --outbound-bind for port 8080;
the gateway's listener for the Gateway port 8080 moves to a local port (--listener-bind).

Every child dies with this process (PR_SET_PDEATHSIG) and stop() ends them all.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

APP_DIR = os.path.dirname(os.path.abspath(__file__))
SAMPLE_DIR = os.path.dirname(APP_DIR)
APP = os.path.join(APP_DIR, "payments_app.py")
PAYMENTS_HOST = "payments-api.payments.svc.cluster.local:8080"
INGRESS_HOST = "payments.example.com"
GATEWAY_ACCOUNT = "istio-ingressgateway-service-account"


class Workload:
    """One WorkloadEntry of services.yaml with its app and sidecar."""

    def __init__(self, name, namespace, account, address, port, labels, app_args):
        self.name, self.namespace, self.account = name, namespace, account
        self.address, self.port, self.labels, self.app_args = address, port, labels, app_args

    @property
    def node_id(self):
        return f"sidecar~{self.address}~{self.name}.{self.namespace}~{self.namespace}.svc.cluster.local"


# As in services.yaml (the end-to-end test checks them against what meshd sends).
WORKLOADS = [
    Workload("payments-api-v1", "payments", "payments-api", "127.0.0.11", 18081,
             {"app": "payments-api", "version": "v1"}, ["payments-api", "--version", "v1"]),
    Workload("payments-api-v2", "payments", "payments-api", "127.0.0.12", 18082,
             {"app": "payments-api", "version": "v2"}, ["payments-api", "--version", "v2"]),
    Workload("orders-v1", "orders", "orders", "127.0.0.21", 18091,
             {"app": "orders", "version": "v1"}, ["orders"]),
]
GATEWAY = "istio-ingressgateway"
PROXIES = [w.name for w in WORKLOADS] + [GATEWAY]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fixed_ports():
    """run-local's documented ports: meshd on 160xx, proxy i on 16i00 + Istio's last digits."""
    ports = {"xds": 16010, "ca": 16012, "monitoring": 16014, "debug": 16015,
             "orders-outbound": 18080, "gateway-http": 18088}
    for i, name in enumerate(PROXIES, start=1):
        base = 16000 + 100 * i
        ports.update({f"{name}-admin": base, f"{name}-status": base + 21, f"{name}-prometheus": base + 90})
    return ports


def free_ports():
    return {name: free_port() for name in fixed_ports()}


def _die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def http_get(url, host=None, headers=None, timeout=5, method="GET"):
    """(status, body text) of one request; connection errors raise OSError."""
    req = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    if host:
        req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def wait_for(what, check, timeout=30.0, interval=0.2, log=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, ValueError) as e:
            last = e
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what} (last: {last!r})" + (f"\n{log()}" if log else ""))


class LocalMesh:
    """Starts and stops the topology. `config_dir` is what meshd watches (the sample, or a test's
    copy of it); `secure` runs meshd's CA and gives every proxy a workload certificate, which
    the sample's STRICT mTLS (security.yaml) needs."""

    def __init__(self, meshd, meshproxy, config_dir, work_dir, ports=None, secure=True, python=sys.executable,
                 extra_gateway_binds=(), log_level="warn"):
        self.meshd, self.meshproxy, self.config_dir, self.work_dir = meshd, meshproxy, config_dir, work_dir
        self.ports = ports or free_ports()
        self.secure, self.python, self.log_level = secure, python, log_level
        self.extra_gateway_binds = list(extra_gateway_binds)
        self.procs = {}
        self.ca_dir = os.path.join(work_dir, "ca")

    # --- addresses a caller needs
    def url(self, port_name, path="/"):
        return f"http://127.0.0.1:{self.ports[port_name]}{path}"

    def admin(self, proxy):
        return f"http://127.0.0.1:{self.ports[proxy + '-admin']}"

    def app_url(self, workload, path):
        w = next(w for w in WORKLOADS if w.name == workload)
        return f"http://127.0.0.1:{w.port}{path}"

    # --- processes
    def log_path(self, name):
        return os.path.join(self.work_dir, name + ".log")

    def log_tail(self, name, lines=30):
        try:
            with open(self.log_path(name), encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def start_process(self, name, argv):
        with open(self.log_path(name), "wb") as log:
            self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                preexec_fn=_die_with_parent)

    def stop_process(self, name):
        p = self.procs.pop(name, None)
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self):
        # Proxies first (they drain), then the apps, meshd last.
        for name in reversed(list(self.procs)):
            self.stop_process(name)

    def exited(self):
        """Names of children that ended on their own."""
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def running(self, name):
        """True, or RuntimeError with the log's end when `name` has exited (no point waiting)."""
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited with {self.procs[name].returncode}:\n{self.log_tail(name)}")
        return True

    # --- the topology
    def meshd_argv(self):
        argv = [self.meshd, "--config-dir", self.config_dir,
                "--xds-address", f"127.0.0.1:{self.ports['xds']}",
                "--monitoring-address", f"127.0.0.1:{self.ports['monitoring']}",
                "--debug-address", f"127.0.0.1:{self.ports['debug']}", "--debounce", "50ms"]
        if self.secure:
            argv += ["--ca", "--ca-dir", self.ca_dir, "--ca-address", f"127.0.0.1:{self.ports['ca']}"]
        return argv

    def proxy_argv(self, name, node_id, namespace, labels, account, kind="sidecar"):
        argv = [self.meshproxy, "--type", kind, "--xds-address", f"127.0.0.1:{self.ports['xds']}",
                "--id", node_id, "--namespace", namespace,
                "--labels", ",".join(f"{k}={v}" for k, v in labels.items()), "--service-account", account,
                "--admin-address", f"127.0.0.1:{self.ports[name + '-admin']}",
                "--status-address", f"127.0.0.1:{self.ports[name + '-status']}",
                "--prometheus-address", f"127.0.0.1:{self.ports[name + '-prometheus']}",
                "--threads", "2", "--drain-timeout", "500ms", "--log-level", self.log_level]
        if self.secure:
            argv += ["--ca-address", f"127.0.0.1:{self.ports['ca']}",
                     "--ca-root-cert", os.path.join(self.ca_dir, "ca-cert.pem"),
                     "--ca-token-file", os.path.join(self.ca_dir, "token")]
        return argv

    def sidecar_argv(self, w):
        argv = self.proxy_argv(w.name, w.node_id, w.namespace, w.labels, w.account)
        # Served as if iptables had redirected a connection for ADDRESS:PORT to 15006; 15001
        # and 15006 themselves stay unbound, so the sidecars can share the host.
        argv += ["--inbound-bind", f"{w.address}:{w.port}",
                 "--listener-bind", "virtualInbound=none", "--listener-bind", "virtualOutbound=none"]
        if w.name.startswith("orders"):
            argv += ["--outbound-bind", f"127.0.0.1:{self.ports['orders-outbound']}=8080"]
        return argv

    def gateway_argv(self):
        argv = self.proxy_argv(GATEWAY, f"router~127.0.0.1~{GATEWAY}.istio-system~istio-system.svc.cluster.local",
                               "istio-system", {"istio": "ingressgateway", "app": GATEWAY}, GATEWAY_ACCOUNT,
                               kind="router")
        argv += ["--listener-bind", f"0.0.0.0_8080=127.0.0.1:{self.ports['gateway-http']}"]
        for bind in self.extra_gateway_binds:
            argv += ["--listener-bind", bind]
        return argv

    def app_argv(self, w):
        argv = [self.python, APP, *w.app_args, "--listen", f"127.0.0.1:{w.port}"]
        if w.name.startswith("orders"):
            argv += ["--payments", f"127.0.0.1:{self.ports['orders-outbound']}"]
        return argv

    def taken_addresses(self):
        """The HOST:PORTs this topology needs that something else holds now (e.g. a second
        run-local): checked up front, since a readiness probe would find the other mesh."""
        wanted = [("127.0.0.1", port) for port in self.ports.values()]
        for w in WORKLOADS:
            wanted += [("127.0.0.1", w.port), (w.address, w.port)]
        taken = []
        for host, port in wanted:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no conflict
                try:
                    s.bind((host, port))
                except OSError:
                    taken.append(f"{host}:{port}")
        return taken

    def start(self, timeout=60):
        os.makedirs(self.work_dir, exist_ok=True)
        taken = self.taken_addresses()
        if taken:
            raise RuntimeError(f"in use already: {', '.join(taken)} (another run-local or canary test?)")
        self.start_process("meshd", self.meshd_argv())
        wait_for("meshd /ready", lambda: self.running("meshd") and
                 http_get(self.url("monitoring", "/ready"), timeout=1)[0] == 200,
                 timeout=timeout, log=lambda: self.log_tail("meshd"))
        if self.secure:
            wait_for("meshd's CA root", lambda: self.running("meshd") and
                     os.path.exists(os.path.join(self.ca_dir, "ca-cert.pem")))
        for w in WORKLOADS:
            self.start_process(w.name + "-app", self.app_argv(w))
        for w in WORKLOADS:
            self.start_process(w.name, self.sidecar_argv(w))
        self.start_process(GATEWAY, self.gateway_argv())
        for name in PROXIES:
            wait_for(f"{name} ready", lambda n=name: self.running(n) and
                     http_get(self.url(n + "-status", "/healthz/ready"), timeout=1)[0] == 200,
                     timeout=timeout, log=lambda n=name: self.log_tail(n))
        for w in WORKLOADS:
            wait_for(f"{w.name}'s app", lambda w=w: self.running(w.name + "-app") and
                     (socket.create_connection(("127.0.0.1", w.port), 1).close() or True),
                     timeout=timeout, log=lambda w=w: self.log_tail(w.name + "-app"))
        # Ready proxies have their first config; these say the routes and endpoints are in.
        wait_for("orders → payments-api through the orders sidecar",
                 lambda: http_get(self.url("orders-outbound", "/api/ping"), host=PAYMENTS_HOST, timeout=2)[0] == 200,
                 timeout=timeout, log=lambda: self.log_tail("orders-v1"))
        wait_for("the ingress gateway → payments-api",
                 lambda: http_get(self.url("gateway-http", "/api/ping"), host=INGRESS_HOST, timeout=2)[0] == 200,
                 timeout=timeout, log=lambda: self.log_tail(GATEWAY))

    def usage(self):
        """How to call the running mesh (run-local prints it)."""
        p = self.ports
        meshctl = f"meshctl --meshd 127.0.0.1:{p['debug']}"
        return "\n".join([
            "The payments mesh is up:",
            f"  meshd              xDS 127.0.0.1:{p['xds']}, debug API 127.0.0.1:{p['debug']}, "
            f"monitoring http://127.0.0.1:{p['monitoring']}" + (f", CA 127.0.0.1:{p['ca']}" if self.secure else ""),
            *[f"  {w.name:<18} app 127.0.0.1:{w.port}, sidecar {w.address}:{w.port}, "
              f"admin {self.admin(w.name)}" for w in WORKLOADS],
            f"  {GATEWAY:<18} http://127.0.0.1:{p['gateway-http']} (the Gateway's port 8080), "
            f"admin {self.admin(GATEWAY)}",
            "",
            "Try:",
            f"  curl -H 'Host: {INGRESS_HOST}' http://127.0.0.1:{p['gateway-http']}/api/charge",
            f"  curl -H 'Host: {PAYMENTS_HOST}' http://127.0.0.1:{p['orders-outbound']}/api/charge"
            "      # as orders, through its sidecar: 90% v1, 10% v2",
            f"  curl -H 'Host: {PAYMENTS_HOST}' -H 'x-test-cohort: canary' "
            f"http://127.0.0.1:{p['orders-outbound']}/api/charge   # always v2",
            f"  curl {self.app_url('orders-v1', '/checkout')}                   # the orders app calling payments-api",
            f"  curl -X POST '{self.app_url('payments-api-v1', '/admin/fail?count=1')}'   # v1 fails once: the retry hides it",
            f"  wrk -d 3s -H 'Host: {PAYMENTS_HOST}' http://127.0.0.1:{p['orders-outbound']}/api/charge",
            f"  {meshctl} proxy-status",
            f"  meshctl proxy-config route --admin {self.admin('orders-v1')} --name 8080 -o json",
            f"  meshctl proxy-config cluster --admin {self.admin('orders-v1')}",
            f"  meshctl proxy-config endpoint --admin {self.admin(GATEWAY)}",
            "",
            f"Logs are in {self.work_dir}. Ctrl-C stops everything.",
        ])


def main():
    """run-local's body: local_mesh.py MESHD MESHPROXY WORK_DIR [--insecure]."""
    import argparse
    import shutil
    parser = argparse.ArgumentParser(description="Run samples/payments as a local mesh")
    parser.add_argument("meshd")
    parser.add_argument("meshproxy")
    parser.add_argument("work_dir")
    parser.add_argument("--insecure", action="store_true",
                        help="leave out security.yaml and the CA (plain text, no authorization)")
    args = parser.parse_args()
    config = os.path.join(args.work_dir, "config")
    shutil.rmtree(config, ignore_errors=True)
    os.makedirs(config)
    for name in sorted(os.listdir(SAMPLE_DIR)):
        if name.endswith(".yaml") and not (args.insecure and name == "security.yaml"):
            shutil.copy(os.path.join(SAMPLE_DIR, name), config)
    mesh = LocalMesh(args.meshd, args.meshproxy, config, args.work_dir, ports=fixed_ports(),
                     secure=not args.insecure, log_level="info")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        mesh.start()
        print(mesh.usage(), flush=True)
        while not mesh.exited():
            time.sleep(0.5)
        print(f"stopped on its own: {', '.join(mesh.exited())}; see the logs in {args.work_dir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    finally:
        mesh.stop()


if __name__ == "__main__":
    sys.exit(main())
