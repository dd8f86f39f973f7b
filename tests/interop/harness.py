"""Process plumbing shared by the loopback end-to-end tests: start echo servers, run the two
xDS clients, start meshd, meshproxy and HTTP backends on free ports, and make sure no child
outlives the test (even when CTest kills the test on timeout)."""
import base64
import ctypes
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_CLIENT = os.path.join(HERE, "node_client.js")


def _die_with_parent():
    # PR_SET_PDEATHSIG (1): the kernel sends SIGTERM to the child when the test process
    # dies, so a killed test leaves no servers behind holding ports.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


_HANDED_OUT = set()


def free_port():
    """A loopback port that was free a moment ago, for programs that cannot pick their own.
    It is taken below the kernel's ephemeral range: bind(0) would hand out a port from that
    range, where the outgoing connections of tests running alongside (wrk and h2load open
    thousands a second) can take it before our server binds it. No port is handed out twice
    by one test process."""
    low, _ = _ephemeral_range()
    first = max(1024, low - 12000)
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(first, low)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free loopback port in [{first}, {low})")


def free_ports(n):
    """n distinct free_port()s."""
    return [free_port() for _ in range(n)]


class Processes:
    """Children of one test run; stderr of each goes to LOG_DIR/NAME.log."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = {}

    def start(self, name, argv, env=None, stdout=subprocess.DEVNULL):
        with open(self.log_path(name), "wb") as log:
            p = subprocess.Popen(argv, stdout=stdout, stderr=log, env=env, text=True,
                                 preexec_fn=_die_with_parent)
        self.procs[name] = p
        return p

    def log_path(self, name):
        return os.path.join(self.log_dir, name + ".log")

    def log_tail(self, name, lines=20):
        try:
            with open(self.log_path(name), encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, name):
        p = self.procs.pop(name)
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p.stdout:
            p.stdout.close()
        return p.returncode

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


def start_echo(procs, binary, name, *flags):
    """Starts echo_server --port 0 --name NAME and returns the port it printed."""
    p = procs.start(name, [binary, "--port", "0", "--name", name, *flags], stdout=subprocess.PIPE)
    ready, _, _ = select.select([p.stdout], [], [], 10)
    line = p.stdout.readline() if ready else ""
    m = re.fullmatch(r"listening on (\d+)\n", line)
    if not m:
        raise RuntimeError(f"{name} did not start (printed {line!r}):\n{procs.log_tail(name)}")
    return int(m.group(1))


class Client:
    """One of the two echo clients: `cpp` (xds_client) or `node` (node_client.js)."""

    def __init__(self, kind, xds_client):
        self.kind = kind
        if kind == "cpp":
            self.argv = [xds_client]
        else:
            node = shutil.which("node")
            if not node:
                raise RuntimeError("node not found on PATH (scripts/setup installs it)")
            self.argv = [node, NODE_CLIENT]

    def __repr__(self):
        return self.kind

    def command(self, target, *flags):
        return [*self.argv, "--target", target, *flags]

    def run(self, target, *flags, bootstrap=None, timeout=60):
        """Runs to the end; returns (summary, progress lines, completed process)."""
        try:
            p = subprocess.run(self.command(target, *flags), capture_output=True, text=True,
                               env=client_env(bootstrap), timeout=timeout,
                               preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired as e:
            # Typically every call waiting out its deadline: a config the client rejected or
            # never got. gRPC's own trace says which.
            stderr = e.stderr.decode("utf-8", "replace") if e.stderr else ""  # bytes here
            raise AssertionError(
                f"{self.kind} client still running after {timeout} s (calls hanging?); rerun with "
                f"GRPC_TRACE=xds_client GRPC_VERBOSITY=DEBUG to see why. stderr:\n{stderr}"
            ) from None
        if p.returncode != 0:
            raise AssertionError(f"{self.kind} client exited {p.returncode}:\n{p.stderr}")
        summary, progress = parse_output(p.stdout)
        return summary, progress, p


def client_env(bootstrap):
    env = dict(os.environ)
    if bootstrap:
        env["GRPC_XDS_BOOTSTRAP"] = bootstrap
    return env


def parse_output(stdout):
    """Client stdout → (summary, progress lines). Progress lines are the ones with "start"."""
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    if not lines or "start" in lines[-1]:
        raise AssertionError(f"no summary line in client output:\n{stdout}")
    return lines[-1], lines[:-1]


def wait_for(what, check, timeout=30.0, interval=0.2, log=None):
    """Polls check() until it returns something true and returns that; connection errors and
    unparsable answers count as "not yet". On timeout fails naming `what`, the last answer and
    log() when given."""
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
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})" + (f"\n{log()}" if log else ""))


def http(method, url, timeout=5):
    """(status, body) of one request; an HTTP error status is an answer, connection errors raise."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def temp_processes(test, prefix):
    """(directory, Processes) for one unittest test: a fresh temporary directory the children log
    into. When the test ends (even when its setUp fails) the children are stopped and the
    directory is removed, unless KEEP_TMP is set."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    procs = Processes(tmp)
    if os.environ.get("KEEP_TMP") is None:
        test.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
    test.addCleanup(procs.stop_all)  # cleanups run last first: the children go before the files
    return tmp, procs


class Meshd:
    """meshd watching a config directory, with its xDS, monitoring and debug ports on loopback.
    The ports are picked once, so a restart (start() again) comes back on the same ones."""

    def __init__(self, procs, binary, config_dir, *flags, name="meshd"):
        self.procs, self.name = procs, name
        self.xds, self.monitoring, self.debug = free_port(), free_port(), free_port()
        self.argv = [binary, "--config-dir", config_dir, "--xds-address", f"127.0.0.1:{self.xds}",
                     "--monitoring-address", f"127.0.0.1:{self.monitoring}",
                     "--debug-address", f"127.0.0.1:{self.debug}", "--debounce", "50ms", *flags]

    def start(self):
        """Starts it and waits for its /ready."""
        process = self.procs.start(self.name, self.argv)

        def ready():
            if process.poll() is not None:
                raise AssertionError(f"{self.name} exited {process.returncode}:\n{self.procs.log_tail(self.name)}")
            return http("GET", self.url("/ready"))[0] == 200

        wait_for(f"{self.name} /ready", ready, log=lambda: self.procs.log_tail(self.name))
        return self

    def url(self, path):
        """A URL of the monitoring port (/ready, /debug/syncz, ...)."""
        return f"http://127.0.0.1:{self.monitoring}{path}"


class Meshproxy:
    """A started meshproxy taking xDS from meshd as node_id, its admin and status ports free
    loopback ones; `flags` come after those (--type, --labels, ...)."""

    def __init__(self, procs, binary, name, xds_port, node_id, *flags, env=None):
        self.admin, self.status = free_port(), free_port()
        self.process = procs.start(name, [
            binary, "--xds-address", f"127.0.0.1:{xds_port}", "--id", node_id,
            "--admin-address", f"127.0.0.1:{self.admin}", "--status-address", f"127.0.0.1:{self.status}",
            *flags], env=env)


# An HTTP/1.1 backend on 127.0.0.1:PORT (a thread per connection) answering GET, POST and
# DELETE with 200 and, by REPLY: the request's headers as JSON (`headers`), "ok PATH" (`path`),
# or any other word as it is (a name saying which backend answered).
_BACKEND = """
import http.server, json, sys
REPLY = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms delayed-ACK stalls
    def answer(self):
        n = int(self.headers.get("content-length") or 0)
        if n:
            self.rfile.read(n)
        if REPLY == "headers":
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        elif REPLY == "path":
            body = b"ok " + self.path.encode()
        else:
            body = REPLY.encode()
        self.send_response(200)
        if REPLY == "headers":
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_DELETE = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def start_backend(procs, name, port, reply="headers"):
    """Starts the HTTP backend above on 127.0.0.1:port (see _BACKEND for `reply`)."""
    return procs.start(name, [sys.executable, "-c", _BACKEND, str(port), reply])


def curl(url, *args, host=None, timeout=5):
    """(status, lower-cased response head, body) of one curl run; status 0 when curl got none."""
    argv = ["curl", "-s", "-m", str(timeout), "-D", "-", "-w", "\n%{http_code}"]
    if host:
        argv += ["-H", f"Host: {host}"]
    out = subprocess.run([*argv, *args, url], capture_output=True, text=True, timeout=timeout + 5).stdout
    rest, _, code = out.rpartition("\n")
    head, _, body = rest.partition("\n\n")  # text mode: CRLF arrives as "\n"
    return int(code or 0), head.lower(), body


def json_lines(path):
    """The JSON objects of a JSON-lines file (a JSON access log), [] while it does not exist."""
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def write_config(directory, *documents, name="edge.yaml"):
    """Writes the YAML documents into DIRECTORY/NAME (making the directory); returns DIRECTORY,
    for meshd's --config-dir."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "w") as f:
        f.write("---\n".join(documents))
    return directory


def service_yaml(name, namespace, endpoint_port=None, app=None):
    """A ServiceEntry NAME.NAMESPACE.svc.cluster.local, port 80 (HTTP), whose endpoints are
    127.0.0.1:endpoint_port (STATIC) or, with `app`, the WorkloadEntries labelled app=APP."""
    endpoints = (f"workloadSelector: {{labels: {{app: {app}}}}}" if app else
                 f"endpoints: [{{address: 127.0.0.1, ports: {{http: {endpoint_port}}}}}]")
    return f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  hosts: [{name}.{namespace}.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP}}]
  {endpoints}
"""


def gateway_yaml(port, host, routes):
    """An ingress gateway (istio: ingressgateway) serving HOST over HTTP on PORT: a Gateway and a
    VirtualService, both edge.edge. routes: (URI prefix or None for any, service host) in order,
    each to the service's port 80."""
    http_routes = "".join(
        "  - {" + (f"match: [{{uri: {{prefix: {prefix}}}}}], " if prefix else "")
        + f"route: [{{destination: {{host: {service}, port: {{number: 80}}}}}}]}}\n"
        for prefix, service in routes)
    return f"""apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: edge, namespace: edge}}
spec:
  selector: {{istio: ingressgateway}}
  servers: [{{port: {{number: {port}, name: http, protocol: HTTP}}, hosts: [{host}]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: edge, namespace: edge}}
spec:
  hosts: [{host}]
  gateways: [edge]
  http:
{http_routes}"""


def fd_count(pid, upstream_port):
    """(open descriptors of PID other than sockets connected to upstream_port, those sockets)."""
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if int(cols[2].rsplit(":", 1)[1], 16) == upstream_port:
                        inodes.add(cols[9])
        except FileNotFoundError:
            pass
    total = upstream = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed while listing
            continue
        total += 1
        if link.startswith("socket:[") and link[8:-1] in inodes:
            upstream += 1
    return total - upstream, upstream


def rss_kib(pid):
    """Resident memory of PID (VmRSS) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JwtSigner:
    """An RSA key made by openssl, its JWKS (one key, id `kid`), and RS256 tokens signed with it."""

    def __init__(self, tmp, kid="k1"):
        self.kid = kid
        self.pem = os.path.join(tmp, f"jwt-{kid}.pem")
        subprocess.run(["openssl", "genrsa", "-out", self.pem, "2048"], check=True, capture_output=True)
        modulus = subprocess.run(["openssl", "rsa", "-in", self.pem, "-noout", "-modulus"], check=True,
                                 capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        self.jwks = json.dumps({"keys": [{"kty": "RSA", "kid": kid, "alg": "RS256", "e": "AQAB",
                                          "n": b64url(bytes.fromhex(modulus))}]})

    def token(self, issuer, sub, exp_in=3600, kid=None, aud=None):
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid or self.kid}).encode())
        claims = {"iss": issuer, "sub": sub, "exp": int(time.time()) + exp_in}
        if aud is not None:
            claims["aud"] = aud
        payload = b64url(json.dumps(claims).encode())
        signing_input = f"{header}.{payload}".encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.pem], input=signing_input, check=True,
                             capture_output=True).stdout
        return f"{header}.{payload}.{b64url(sig)}"
