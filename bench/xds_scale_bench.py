#!/usr/bin/env python3
"""xDS scale benchmark: N services, M simulated Envoy sidecars holding ADS streams to meshd.

Generates a mesh (bench/gen_mesh.py: per service a Service, two Pods with IPs, a
VirtualService, a DestinationRule and more) plus one small service the benchmark edits
(`bench-target` in the first namespace, with its own files), starts meshd on it, waits for
/ready, starts xds_load_client with M proxies, and measures:

  initial sync   client start → every proxy has ACKed CDS, EDS, LDS (and RDS when routes are named)
  full push      a routing change (bench-target's DestinationRule connection pool and VirtualService
                 weights, one file write) → every proxy has ACKed every type the change reached
  endpoint push  bench-target's WorkloadEntry moves to another IP (meshd pushes EDS alone) → every
                 proxy has ACKed the new EDS

Latency is measured from the wall-clock time just before the file's rename into the config
directory to the client's CLOCK_REALTIME time of the last proxy's ACK, so meshd's --debounce
is part of it. Each change is repeated (--repeats) and the median and maximum reported, with
meshd's CPU seconds (utime+stime from /proc/PID/stat) over each change and its resident
memory (VmRSS, and VmHWM as the peak).

Usage:
  xds_scale_bench.py --meshd build-rel/controlplane/meshd \\
      --client build-rel/bench/xds_load/xds_load_client --services 1000 --proxies 1000 \\
      [--delta] [--debounce 100ms,10ms] [--repeats 5] [--json-out FILE]

Python standard library only. Prints a table and, last, a JSON summary on stdout.
"""
import argparse
import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_NS = "team-000"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- config generation

def target_config(k):
    """bench-target's Service, DestinationRule and VirtualService, variant k (a routing change)."""
    return f"""apiVersion: v1
kind: Service
metadata:
  name: bench-target
  namespace: {TARGET_NS}
spec:
  selector: {{app: bench-target}}
  ports:
  - name: http
    port: 8080
    targetPort: 8080
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bench-target
  namespace: {TARGET_NS}
spec:
  host: bench-target.{TARGET_NS}.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp: {{maxConnections: {100 + k}}}
  subsets:
  - name: v1
    labels: {{version: v1}}
  - name: v2
    labels: {{version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bench-target
  namespace: {TARGET_NS}
spec:
  hosts:
  - bench-target.{TARGET_NS}.svc.cluster.local
  http:
  - route:
    - destination:
        host: bench-target.{TARGET_NS}.svc.cluster.local
        subset: v1
      weight: {90 - k % 80}
    - destination:
        host: bench-target.{TARGET_NS}.svc.cluster.local
        subset: v2
      weight: {10 + k % 80}
"""


def target_endpoint(k):
    """bench-target's WorkloadEntry (selected by the Service), variant k (a new address)."""
    return f"""apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: bench-target-vm
  namespace: {TARGET_NS}
spec:
  address: 10.250.{k // 250}.{k % 250 + 1}
  labels: {{app: bench-target, version: v1}}
  serviceAccount: bench-target
"""


def write_atomically(directory, name, text):
    """Writes a hidden temporary file (the store ignores it) and renames it into place.
    Returns the wall-clock time in ms taken just before the rename."""
    tmp = os.path.join(directory, f".{name}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    t0 = time.time() * 1000.0
    os.rename(tmp, os.path.join(directory, name))
    return t0


def generate(config_dir, services, namespaces):
    subprocess.run([sys.executable, os.path.join(HERE, "gen_mesh.py"), config_dir, "--services", str(services),
                    "--namespaces", str(namespaces), "--pod-ips"], check=True)
    write_atomically(config_dir, "bench-target.yaml", target_config(0))
    write_atomically(config_dir, "bench-target-endpoint.yaml", target_endpoint(0))
    count = 0
    for name in os.listdir(config_dir):
        with open(os.path.join(config_dir, name)) as f:
            count += sum(1 for line in f if line.startswith("kind: "))
    return count


# ---------------------------------------------------------------- processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def memory_mib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


def http_get(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


def push_triggers(monitoring):
    status, text = http_get(f"http://{monitoring}/metrics")
    if status != 200:
        return None
    return sum(float(m.group(1)) for m in re.finditer(r"^pilot_push_triggers\{[^}]*\} (\S+)$", text, re.M))


class Failure(Exception):
    pass


class MemoryGuard:
    """Samples meshd's RSS every 100 ms, keeping the peak and a once-a-second timeline; kills
    meshd (SIGKILL) past `limit_mib`, so a run that explodes cannot take the shared machine
    down with it."""

    def __init__(self, proc, limit_mib):
        self.proc, self.limit, self.killed_at = proc, limit_mib, None
        self.peak, self.timeline, self.start = 0.0, [], time.time()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self.proc.poll() is None:
            try:
                rss, _ = memory_mib(self.proc.pid)
            except OSError:
                return
            self.peak = max(self.peak, rss)
            t = time.time() - self.start
            if not self.timeline or t - self.timeline[-1][0] >= 1.0:
                self.timeline.append((round(t, 1), round(rss)))
            if self.limit and rss > self.limit:
                self.killed_at = (round(t, 1), rss)
                self.proc.kill()
                return
            time.sleep(0.1)

    def check(self):
        """Raises if the guard killed meshd; waits briefly so a kill in progress is seen."""
        if self.proc.poll() is None:
            time.sleep(0.3)
        if self.killed_at is not None:
            t, rss = self.killed_at
            raise Failure(f"meshd killed by the benchmark {t} s after start: RSS {rss:.0f} MiB > --max-rss-mib "
                          f"{self.limit:.0f}")

class Client:
    """xds_load_client as a child: JSON lines read by a thread into a queue."""

    def __init__(self, args, xds, namespaces, log_path):
        namespaces = min(namespaces, args.proxy_namespaces) if args.proxy_namespaces else namespaces
        cmd = [args.client, "--xds", xds, "--proxies", str(args.proxies), "--channels", str(args.channels),
               "--namespace-count", str(namespaces), "--progress-ms", "2000"]
        if args.delta:
            cmd.append("--delta")
        self.cmd = cmd
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     bufsize=1)
        self.events = queue.Queue()
        self.closed = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            self.log.write(line)
            if e.get("event") == "stream_closed":
                self.closed.append(e)
            self.events.put(e)
        self.events.put({"event": "eof"})

    def next(self, timeout):
        try:
            return self.events.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            return None

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def status(self, timeout=30.0):
        """Asks for a status event; other events that arrive meanwhile are returned too."""
        self.command("status")
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            e = self.next(deadline - time.time())
            if e is None:
                break
            if e["event"] == "status":
                return e, seen
            if e["event"] == "eof":
                raise Failure("xds_load_client exited")
            seen.append(e)
        raise Failure("xds_load_client did not answer `status`")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.command("quit")
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- measurement

def wait_for_change(client, meshd, guard, t0, baseline, timeout_s, settle_ms):
    """After a config write at t0 (ms): waits until every type that any proxy received a
    version newer than `baseline` of has been ACKed by all proxies at its newest version,
    then `settle_ms` more without news. Returns (per-type results, newest version, events)."""
    newest = {}    # type → newest version seen after the change
    first = {}     # type → t_ms of the first response with a version > baseline
    synced = {}    # type → (version, t_ms) of the last type_synced
    quiet_since = None
    deadline = time.time() + timeout_s
    while True:
        if meshd.poll() is not None:
            guard.check()
            raise Failure(f"meshd exited with status {meshd.returncode} during the change")
        now = time.time()
        if now > deadline:
            raise Failure("timeout")
        done = bool(newest) and all(synced.get(t, (0, 0))[0] >= v for t, v in newest.items())
        if done:
            quiet_since = quiet_since or now
            if (now - quiet_since) * 1000 >= settle_ms:
                break
        else:
            quiet_since = None
        e = client.next(0.05 if done else min(0.5, deadline - now))
        if e is None:
            continue
        kind = e["event"]
        if kind in ("eof", "stream_closed"):
            guard.check()
        if kind == "eof":
            raise Failure("xds_load_client exited during the change")
        if kind == "stream_closed":
            raise Failure(f"proxy {e['proxy']} stream closed: code {e['code']} {e['message']}")
        if kind == "decode_error":
            raise Failure(f"proxy {e['proxy']} could not decode a response of {e['bytes']} bytes")
        if kind == "first" and e["version"] > baseline:
            t = e["type"]
            newest[t] = max(newest.get(t, 0), e["version"])
            first.setdefault(t, e["t_ms"])
            quiet_since = None
        elif kind == "type_synced":
            synced[e["type"]] = (e["version"], e["t_ms"])
    result = {}
    for t, v in newest.items():
        result[t] = {"version": v, "first_ms": first[t] - t0, "all_acked_ms": synced[t][1] - t0}
    return result, max(newest.values())


def measure_change(kind, k, args, client, meshd, guard, monitoring, config_dir, baseline):
    status_before, _ = client.status()
    triggers_before = push_triggers(monitoring)
    cpu_before = cpu_seconds(meshd.pid)
    client_cpu_before = status_before["cpu_s"]
    if kind == "full":
        t0 = write_atomically(config_dir, "bench-target.yaml", target_config(k))
    else:
        t0 = write_atomically(config_dir, "bench-target-endpoint.yaml", target_endpoint(k))
    try:
        types, newest = wait_for_change(client, meshd, guard, t0, baseline, args.timeout, args.settle_ms)
    except Failure as f:
        status, _ = client.status()
        raise Failure(f"{kind} change {k}: {f}; client status: {json.dumps(status['types'])}")
    cpu = cpu_seconds(meshd.pid) - cpu_before
    status_after, _ = client.status()
    rss, hwm = memory_mib(meshd.pid)
    triggers_after = push_triggers(monitoring)
    latency = max(t["all_acked_ms"] for t in types.values())
    bytes_pushed = sum(status_after["types"][t]["bytes"] - status_before["types"].get(t, {}).get("bytes", 0)
                       for t in status_after["types"])
    return {
        "kind": kind, "k": k, "latency_ms": latency, "types": types, "version": newest,
        "meshd_cpu_s": cpu, "client_cpu_s": status_after["cpu_s"] - client_cpu_before,
        "bytes_pushed": bytes_pushed, "meshd_rss_mib": rss, "meshd_hwm_mib": hwm,
        "push_triggers": None if triggers_before is None or triggers_after is None else triggers_after - triggers_before,
    }


def summarize(runs):
    lat = [r["latency_ms"] for r in runs]
    types = sorted({t for r in runs for t in r["types"]})
    per_type = {}
    for t in types:
        vals = [r["types"][t]["all_acked_ms"] for r in runs if t in r["types"]]
        firsts = [r["types"][t]["first_ms"] for r in runs if t in r["types"]]
        per_type[t] = {"median_ms": statistics.median(vals), "max_ms": max(vals),
                       "first_median_ms": statistics.median(firsts), "runs": len(vals)}
    return {
        "runs": len(runs), "median_ms": statistics.median(lat), "max_ms": max(lat), "types": per_type,
        "meshd_cpu_s_median": statistics.median(r["meshd_cpu_s"] for r in runs),
        "client_cpu_s_median": statistics.median(r["client_cpu_s"] for r in runs),
        "mib_pushed_median": statistics.median(r["bytes_pushed"] for r in runs) / 2**20,
        "push_triggers": [r["push_triggers"] for r in runs],
    }


def session(args, debounce, workdir, config_dir, namespaces, resources):
    """One meshd (with `debounce`) and one client: initial sync, then the changes."""
    xds = f"127.0.0.1:{free_port()}"
    monitoring = f"127.0.0.1:{free_port()}"
    tag = debounce.replace(".", "_")
    meshd_log = os.path.join(workdir, f"meshd-{tag}.log")
    meshd_cmd = [args.meshd, "--config-dir", config_dir, "--xds-address", xds, "--monitoring-address", monitoring, "--debug-address", "127.0.0.1:0",
                 "--debounce", debounce, "--log-level", args.log_level]
    out = {"debounce": debounce, "meshd_cmd": " ".join(meshd_cmd), "meshd_log": meshd_log,
           "loadavg_before": os.getloadavg()}
    with open(meshd_log, "w") as log:
        start = time.time()
        meshd = subprocess.Popen(meshd_cmd, stdout=log, stderr=subprocess.STDOUT)
    guard = MemoryGuard(meshd, args.max_rss_mib)
    client = None
    perf = None
    try:
        while http_get(f"http://{monitoring}/ready", timeout=1.0)[0] != 200:
            if meshd.poll() is not None:
                raise Failure(f"meshd exited with status {meshd.returncode} before /ready; see {meshd_log}")
            if time.time() - start > args.timeout:
                raise Failure("meshd not ready in time")
            time.sleep(0.05)
        out["ready_s"] = time.time() - start
        out["meshd_cpu_ready_s"] = cpu_seconds(meshd.pid)
        out["meshd_rss_ready_mib"] = memory_mib(meshd.pid)[0]
        log_progress(f"[{debounce}] meshd ready in {out['ready_s']:.2f} s, RSS {out['meshd_rss_ready_mib']:.0f} MiB")

        cpu0 = cpu_seconds(meshd.pid)
        client = Client(args, xds, namespaces, os.path.join(workdir, f"client-{tag}.log"))
        out["client_cmd"] = " ".join(client.cmd)
        deadline = time.time() + args.timeout
        initial = None
        while initial is None:
            if meshd.poll() is not None:
                guard.check()
                raise Failure(f"meshd exited with status {meshd.returncode} during the initial sync; see {meshd_log}")
            e = client.next(min(1.0, deadline - time.time()))
            if time.time() > deadline:
                status, _ = client.status()
                raise Failure(f"initial sync not reached in {args.timeout} s; client status: {json.dumps(status)}")
            if e is None:
                continue
            if e["event"] in ("eof", "stream_closed"):
                guard.check()
            if e["event"] == "eof":
                raise Failure("xds_load_client exited during the initial sync")
            if e["event"] == "stream_closed":
                raise Failure(f"proxy {e['proxy']} stream closed: code {e['code']} {e['message']}")
            if e["event"] == "progress":
                log_progress(f"[{debounce}] initial sync: {e['open']} streams open, {e['ready']} proxies ready")
            if e["event"] == "initial_sync":
                initial = e
        rss, hwm = memory_mib(meshd.pid)
        out["initial_sync"] = {
            "elapsed_ms": initial["elapsed_ms"], "meshd_cpu_s": cpu_seconds(meshd.pid) - cpu0,
            "client_cpu_s": initial["cpu_s"], "meshd_rss_mib": rss, "meshd_hwm_mib": hwm,
            "types": initial["types"], "client_rss_mib": memory_mib(client.proc.pid)[0],
            "mib_pushed": sum(t["bytes"] for t in initial["types"].values()) / 2**20,
        }
        baseline = max(t["version"] for t in initial["types"].values())
        log_progress(f"[{debounce}] initial sync of {args.proxies} proxies in {initial['elapsed_ms']:.0f} ms, "
                     f"meshd RSS {rss:.0f} MiB")
        time.sleep(args.pause)

        if args.perf_out:  # sample meshd's stacks over the changes only, not the initial sync
            perf = subprocess.Popen(["perf", "record", *args.perf_args.split(), "-p", str(meshd.pid), "-o",
                                     f"{args.perf_out}.{tag}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        k = 0
        for phase in args.phases:
            runs = []
            for _ in range(args.repeats):
                k += 1
                r = measure_change(phase, k, args, client, meshd, guard, monitoring, config_dir, baseline)
                baseline = max(baseline, r["version"])
                runs.append(r)
                per_type = ", ".join(f"{t} {v['all_acked_ms']:.0f}" for t, v in sorted(r["types"].items()))
                log_progress(f"[{debounce}] {phase} #{len(runs)}: {r['latency_ms']:.0f} ms ({per_type}), "
                             f"meshd CPU {r['meshd_cpu_s']:.2f} s, {r['bytes_pushed'] / 2**20:.1f} MiB pushed")
                time.sleep(args.pause)
            out[phase] = summarize(runs)
            out[phase]["samples"] = runs
        rss, hwm = memory_mib(meshd.pid)
        out["meshd_rss_end_mib"] = rss
        out["meshd_hwm_mib"] = hwm
        out["meshd_cpu_total_s"] = cpu_seconds(meshd.pid)
        out["loadavg_after"] = os.getloadavg()
        out["client_hwm_mib"] = memory_mib(client.proc.pid)[1]
    except Failure as f:
        out["error"] = str(f)
        log_progress(f"[{debounce}] FAILED: {f}")
        if meshd.poll() is None:
            out["meshd_rss_end_mib"], out["meshd_hwm_mib"] = memory_mib(meshd.pid)
        if client and client.proc.poll() is None:
            try:  # how far the proxies got: per type, proxies by the version they hold
                out["client_status_at_failure"] = client.status(timeout=10)[0]
            except Failure:
                pass
    finally:
        if perf:
            perf.send_signal(2)  # SIGINT: perf writes its file and exits
            perf.wait()
        if client:
            client.stop()
            out["client_streams_closed"] = len(client.closed)
        if meshd.poll() is None:
            meshd.terminate()
            try:
                meshd.wait(timeout=20)
            except subprocess.TimeoutExpired:
                meshd.kill()
                meshd.wait()
        out["meshd_exit"] = meshd.returncode
        out["meshd_rss_peak_sampled_mib"] = guard.peak
        out["meshd_rss_timeline"] = guard.timeline
    return out


def log_progress(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt_ms(v):
    return f"{v:,.0f}" if v >= 10 else f"{v:.1f}"


def print_table(summary):
    a = summary["args"]
    print(f"\nxDS scale: {a['services']} services ({summary['resources']} resources, {summary['namespaces']} namespaces), "
          f"{a['proxies']} proxies ({'delta' if a['delta'] else 'SotW'}) in "
          f"{min(summary['namespaces'], a['proxy_namespaces'] or summary['namespaces'])} namespaces, {a['channels']} channels")
    print(f"{'debounce':>8} {'phase':<14} {'n':>2} {'median ms':>10} {'max ms':>9}  {'per type median (ms, all ACKed)':<36}"
          f" {'meshd CPU s':>11} {'client CPU s':>12} {'MiB pushed':>10}")
    for s in summary["sessions"]:
        d = s["debounce"]
        if "initial_sync" in s:
            i = s["initial_sync"]
            print(f"{d:>8} {'initial sync':<14} {1:>2} {fmt_ms(i['elapsed_ms']):>10} {'':>9}  {'':<36}"
                  f" {i['meshd_cpu_s']:>11.2f} {i['client_cpu_s']:>12.2f} {i['mib_pushed']:>10.1f}")
        for phase in summary["args"]["phases"]:
            if phase not in s:
                continue
            p = s[phase]
            per = ", ".join(f"{t} {fmt_ms(v['median_ms'])}" for t, v in sorted(p["types"].items()))
            print(f"{d:>8} {phase + ' push':<14} {p['runs']:>2} {fmt_ms(p['median_ms']):>10} {fmt_ms(p['max_ms']):>9}  "
                  f"{per:<36} {p['meshd_cpu_s_median']:>11.2f} {p['client_cpu_s_median']:>12.2f} "
                  f"{p['mib_pushed_median']:>10.1f}")
        mem = []
        if "meshd_rss_ready_mib" in s:
            mem.append(f"ready (no proxies) {s['meshd_rss_ready_mib']:.0f}")
        if "initial_sync" in s:
            mem.append(f"after initial sync {s['initial_sync']['meshd_rss_mib']:.0f}")
        if s.get("meshd_rss_end_mib"):
            mem.append(f"at end {s['meshd_rss_end_mib']:.0f}")
        if s.get("meshd_hwm_mib"):
            mem.append(f"peak (VmHWM) {s['meshd_hwm_mib']:.0f}")
        else:
            mem.append(f"peak (sampled) {s['meshd_rss_peak_sampled_mib']:.0f}")
        print(f"{d:>8} meshd memory MiB: {', '.join(mem)}"
              + (f"; client peak {s['client_hwm_mib']:.0f}" if "client_hwm_mib" in s else "")
              + f"; load average before {s['loadavg_before'][0]:.1f}")
        if "error" in s:
            print(f"{d:>8} ERROR: {s['error']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meshd", required=True, help="path of the meshd binary")
    ap.add_argument("--client", required=True, help="path of xds_load_client")
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--proxies", type=int, default=1000)
    ap.add_argument("--namespaces", type=int, default=0, help="default: one per 20 services")
    ap.add_argument("--proxy-namespaces", type=int, default=0,
                    help="spread the proxies over only the first K namespaces (default: all of them)")
    ap.add_argument("--delta", action="store_true", help="proxies use delta xDS")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--debounce", default="100ms", help="comma-separated: one session per meshd --debounce value")
    ap.add_argument("--phases", default="full,endpoint", help="comma-separated, from: full, endpoint")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between changes")
    ap.add_argument("--settle-ms", type=float, default=500, help="quiet time that ends a change")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed for the initial sync and each change")
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--max-rss-mib", type=float, default=12288, help="kill meshd beyond this resident size (0: never)")
    ap.add_argument("--workdir", help="keep config and logs here (default: a temporary directory, removed)")
    ap.add_argument("--json-out", help="also write the JSON summary here")
    ap.add_argument("--perf-out", help="record meshd with `perf record` during the changes into FILE.<debounce>")
    ap.add_argument("--perf-args", default="-F 199 -g",
                    help="perf record options (meshd has no frame pointers: '--call-graph dwarf -F 49' gives callers)")
    args = ap.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    if any(p not in ("full", "endpoint") for p in args.phases):
        ap.error("--phases takes full and/or endpoint")
    namespaces = args.namespaces or max(1, args.services // 20)

    workdir = args.workdir or tempfile.mkdtemp(prefix="xds-scale-")
    os.makedirs(workdir, exist_ok=True)
    config_dir = os.path.join(workdir, "config")
    shutil.rmtree(config_dir, ignore_errors=True)
    resources = generate(config_dir, args.services, namespaces)
    log_progress(f"generated {resources} resources for {args.services} services in {namespaces} namespaces")

    summary = {"args": vars(args), "namespaces": namespaces, "resources": resources, "sessions": []}
    try:
        for debounce in [d for d in args.debounce.split(",") if d]:
            summary["sessions"].append(session(args, debounce, workdir, config_dir, namespaces, resources))
            # Restore the edited files so every session starts from the same config.
            write_atomically(config_dir, "bench-target.yaml", target_config(0))
            write_atomically(config_dir, "bench-target-endpoint.yaml", target_endpoint(0))
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(summary)
    text = json.dumps(summary, indent=1)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text)
    print(text)
    return 1 if any("error" in s for s in summary["sessions"]) else 0


if __name__ == "__main__":
    sys.exit(main())
