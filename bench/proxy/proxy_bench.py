#!/usr/bin/env python3
"""HTTP proxy benchmark: wrk (HTTP/1.1) and h2load (HTTP/2, h2c) against one backend, directly,
through nginx as a reverse proxy, and through meshproxy (an ingress gateway configured by meshd),
all in one run on this machine. Prints a table of requests/s, p50/p99 latency and the ratios,
and the added p99 latency at a fixed 1,000 requests/s. Reports figures; asserts nothing.

The backend is nginx answering 200 "ok" from memory; both proxies keep upstream connections
alive and run one worker (nginx worker_processes 1, meshproxy --threads 1), so the comparison
is per core.

Usage: bench/proxy/proxy_bench.py [--meshd build-rel/controlplane/meshd]
       [--meshproxy build-rel/proxy/meshproxy] [--seconds 10] [--connections 50]
Needs: nginx, wrk, h2load (Debian: nginx-light wrk nghttp2-client).
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30, headers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def nginx_conf(prefix, port, body):
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    path = os.path.join(prefix, f"nginx-{port}.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {prefix}/nginx-{port}.pid;
error_log {prefix}/logs/error-{port}.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
{body}
}}
""")
    return path


def start_nginx(prefix, port, server_body, upstream=""):
    conf = nginx_conf(prefix, port, upstream + f"""
  server {{
    listen 127.0.0.1:{port};
    listen 127.0.0.1:{port + 1} http2;
{server_body}
  }}""")
    return subprocess.Popen(["nginx", "-p", prefix, "-c", conf], stderr=subprocess.DEVNULL)


def run_wrk(url, seconds, connections, script=None, host=None):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        argv += ["-s", script]
    if host:
        argv += ["-H", f"Host: {host}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        lat[pct] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "non2xx": int(errors.group(1)) if errors else 0}


def run_h2load(url, seconds, connections, host=None):
    argv = ["h2load", "-D", str(seconds), "-c", str(connections), "-m", "10", "-t", "1", url]
    if host:
        argv += ["-H", f":authority: {host}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    ok = re.search(r"(\d+) succeeded", out)
    return {"rps": float(m.group(1)) if m else 0.0, "succeeded": int(ok.group(1)) if ok else 0}


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


MESH_CONFIG = """apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: backend, namespace: bench}}
spec:
  hosts: [backend.bench.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{{number: 80, name: http, protocol: HTTP}}]
  endpoints: [{{address: 127.0.0.1, ports: {{http: {backend}}}}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: bench, namespace: bench}}
spec:
  selector: {{istio: bench-gateway}}
  servers: [{{port: {{number: {gateway}, name: http, protocol: HTTP}}, hosts: ["*"]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: bench, namespace: bench}}
spec:
  hosts: ["*"]
  gateways: [bench]
  http: [{{route: [{{destination: {{host: backend.bench.svc.cluster.local, port: {{number: 80}}}}}}]}}]
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshd", default="build-rel/controlplane/meshd")
    ap.add_argument("--meshproxy", default="build-rel/proxy/meshproxy")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    for tool in ("nginx", "wrk", "h2load"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: scripts/setup installs it (Debian: nginx-light wrk nghttp2-client)")

    work = tempfile.mkdtemp(prefix="proxy-bench-")
    procs = []
    try:
        backend = free_port()
        while free_port() == backend + 1:
            backend = free_port()
        procs.append(start_nginx(work, backend, "    location / { return 200 'ok\\n'; }"))
        nginx_port = free_port()
        procs.append(start_nginx(work, nginx_port, "    location / { proxy_pass http://backend; "
                                 "proxy_http_version 1.1; proxy_set_header Connection \"\"; }",
                                 f"  upstream backend {{ server 127.0.0.1:{backend}; keepalive 64; }}\n"))
        targets = {"direct": f"http://127.0.0.1:{backend}/", "nginx": f"http://127.0.0.1:{nginx_port}/"}
        h2_targets = {"direct": f"http://127.0.0.1:{backend + 1}/", "nginx": f"http://127.0.0.1:{nginx_port + 1}/"}
        for url in targets.values():
            if not wait_http(url):
                sys.exit(f"{url} did not come up (see {work}/logs)")

        proxy_pid = None
        gateway = free_port()
        config = os.path.join(work, "mesh")
        os.makedirs(config)
        with open(os.path.join(config, "bench.yaml"), "w") as f:
            f.write(MESH_CONFIG.format(backend=backend, gateway=gateway))
        xds, monitoring, debug = free_port(), free_port(), free_port()
        log = open(os.path.join(work, "meshd.log"), "w")
        procs.append(subprocess.Popen([args.meshd, "--config-dir", config, "--xds-address", f"127.0.0.1:{xds}",
                                       "--monitoring-address", f"127.0.0.1:{monitoring}",
                                       "--debug-address", f"127.0.0.1:{debug}"], stderr=log))
        admin = free_port()
        plog = open(os.path.join(work, "meshproxy.log"), "w")
        proxy = subprocess.Popen([args.meshproxy, "--type", "router", "--xds-address", f"127.0.0.1:{xds}",
                                  "--id", "router~127.0.0.1~bench-gateway-0.bench~bench.svc.cluster.local",
                                  "--labels", "istio=bench-gateway", "--threads", "1",
                                  "--admin-address", f"127.0.0.1:{admin}",
                                  "--status-address", f"127.0.0.1:{free_port()}"], stderr=plog)
        procs.append(proxy)
        if wait_http(f"http://127.0.0.1:{gateway}/", timeout=20):
            targets["meshproxy"] = f"http://127.0.0.1:{gateway}/"
            h2_targets["meshproxy"] = f"http://127.0.0.1:{gateway}/"
            time.sleep(1)
            proxy_pid = proxy.pid
            idle_rss = rss_mib(proxy_pid)
        else:
            print(f"meshproxy does not serve the gateway (see {work}/meshproxy.log): measuring without it\n")

        delay = os.path.join(HERE, "fixed_rate.lua")
        rows = {}
        for name, url in targets.items():
            rows[name] = run_wrk(url, args.seconds, args.connections)
            rows[name]["fixed"] = run_wrk(url, args.seconds, 10, script=delay)
        h2 = {name: run_h2load(url, args.seconds, args.connections) for name, url in h2_targets.items()}

        base = rows["direct"]
        print(f"HTTP/1.1, wrk -t1 -c{args.connections} -d{args.seconds}s (closed loop)")
        print(f"{'path':<10} {'req/s':>10} {'vs nginx':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}"
              f" | at ~1,000 req/s: {'p50 ms':>7} {'p99 ms':>7} {'added p99':>9}")
        for name, r in rows.items():
            ratio = r["rps"] / rows["nginx"]["rps"]
            f = r["fixed"]
            print(f"{name:<10} {r['rps']:>10.0f} {ratio:>8.2f}x {r['p50']:>8.3f} {r['p99']:>8.3f} {r['non2xx']:>8}"
                  f" | {' ' * 16}{f['p50']:>7.3f} {f['p99']:>7.3f} {f['p99'] - base['fixed']['p99']:>9.3f}"
                  f"  ({f['rps']:.0f} req/s)")
        print(f"\nHTTP/2 (h2c), h2load -c{args.connections} -m10 -D{args.seconds}")
        for name, r in h2.items():
            print(f"{name:<10} {r['rps']:>10.0f} req/s  ({r['succeeded']} succeeded)")
        if proxy_pid:
            print(f"\nmeshproxy resident memory: {idle_rss:.1f} MiB idle (config loaded), "
                  f"{rss_mib(proxy_pid):.1f} MiB after the runs")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
