"""Process plumbing shared by the interop tests: start echo servers, run the two clients,
and make sure no child outlives the test (even when CTest kills the test on timeout)."""
import ctypes
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_CLIENT = os.path.join(HERE, "node_client.js")


def _die_with_parent():
    # PR_SET_PDEATHSIG (1): the kernel sends SIGTERM to the child when the test process
    # dies, so a killed test leaves no servers behind holding ports.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def free_port():
    """A port that was free a moment ago (for programs that cannot pick their own)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
