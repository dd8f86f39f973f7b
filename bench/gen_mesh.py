#!/usr/bin/env python3
"""Generates a synthetic mesh for benchmarks: N services spread over M namespaces, one file
per namespace, six resources per service (Service, Deployment, ServiceAccount,
VirtualService, DestinationRule, AuthorizationPolicy) plus, per namespace, a Namespace, a
PeerAuthentication, an ingress Gateway and the running Pods (with --pods, as a cluster would
report them, so selector analyzers have workloads to match). Deterministic for given arguments.

With --mistakes K, K services get one injected mistake each (cycling through the kinds in
MISTAKES) and OUT_DIR.expected.json (beside the directory, so it is not read as config) lists the analysis messages they must cause, as
[{"code": ..., "origin": ...}]: the ground truth `meshctl analyze` is checked against.

With --pod-ips (implies --pods) every pod also gets a status (Running, Ready, a unique
podIP in 10.200.0.0/13) so a control plane has endpoints to serve, as xds_scale_bench.py needs.

Usage: gen_mesh.py OUT_DIR [--services 10000] [--namespaces 200] [--pods] [--pod-ips] [--mistakes K]
"""
import argparse
import json
import os


# Each mistake: (what to change, the message it must cause). `origin` is filled in per service.
MISTAKES = [
    ("subset-not-in-dr", "IST0101", "VirtualService"),
    ("dr-subset-selects-nothing", "IST0173", "DestinationRule"),
    ("authz-selects-nothing", "IST0127", "AuthorizationPolicy"),
    ("bad-duration", "IST0106", "VirtualService"),
    ("unknown-destination-host", "IST0101", "VirtualService"),
]


def service(ns, name, i, mistake=None):
    v2_subset = "v3" if mistake == "subset-not-in-dr" else "v2"
    extra_subset = "\n  - name: v9\n    labels: {version: v9}" if mistake == "dr-subset-selects-nothing" else ""
    authz_app = "ghost" if mistake == "authz-selects-nothing" else name
    timeout = "5x" if mistake == "bad-duration" else "5s"
    canary_host = f"missing-{name}.{ns}.svc.cluster.local" if mistake == "unknown-destination-host" else f"{name}.{ns}.svc.cluster.local"
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}, tier: backend}}
spec:
  selector: {{app: {name}}}
  ports:
  - name: http
    port: 8080
    targetPort: 8080
  - name: grpc-admin
    port: 9090
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}-v1
  namespace: {ns}
  labels: {{app: {name}, version: v1}}
spec:
  replicas: {1 + i % 3}
  selector:
    matchLabels: {{app: {name}, version: v1}}
  template:
    metadata:
      labels: {{app: {name}, version: v1}}
      annotations:
        sidecar.istio.io/inject: "true"
    spec:
      serviceAccountName: {name}
      containers:
      - name: app
        image: registry.example.com/{ns}/{name}:1.{i % 20}.0
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {name}
  namespace: {ns}
spec:
  hosts:
  - {name}.{ns}.svc.cluster.local
  http:
  - name: canary
    match:
    - headers:
        x-canary:
          exact: "true"
    - uri:
        regex: "^/api/v[0-9]+/{name}/.*"
    route:
    - destination:
        host: {canary_host}
        port:
          number: 8080
  - name: default
    route:
    - destination:
        host: {name}.{ns}.svc.cluster.local
        subset: v1
        port:
          number: 8080
      weight: 90
    - destination:
        host: {name}.{ns}.svc.cluster.local
        subset: {v2_subset}
        port:
          number: 8080
      weight: 10
    timeout: {timeout}
    retries:
      attempts: 3
      perTryTimeout: 1s
      retryOn: 5xx,reset,connect-failure
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {name}
  namespace: {ns}
spec:
  host: {name}.{ns}.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: LEAST_REQUEST
    connectionPool:
      tcp: {{maxConnections: 100}}
      http: {{http1MaxPendingRequests: 50, maxRequestsPerConnection: 10}}
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
      maxEjectionPercent: 50
  subsets:
  - name: v1
    labels: {{version: v1}}
  - name: v2
    labels: {{version: v2}}{extra_subset}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector:
    matchLabels: {{app: {authz_app}}}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/{ns}/sa/frontend"]
        namespaces: ["{ns}"]
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/*"]
    when:
    - key: request.headers[x-tenant]
      values: ["t{i % 7}"]
"""


def pod_status(i, v):
    n = 2 * i + v
    return f"""status:
  phase: Running
  podIP: 10.{200 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}
  conditions:
  - type: Ready
    status: "True"
"""


def pods(ns, name, i, ips=False):
    return "---\n".join(f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}-{version}-{i:05d}
  namespace: {ns}
  labels: {{app: {name}, version: {version}, security.istio.io/tlsMode: istio}}
spec:
  serviceAccountName: {name}
  containers:
  - name: app
    image: registry.example.com/{ns}/{name}:1.{i % 20}.0
  - name: istio-proxy
    image: docker.io/istio/proxyv2:1.20.2
""" + (pod_status(i, v) if ips else "") for v, version in enumerate(("v1", "v2")))


def namespace(ns):
    return f"""apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    istio-injection: enabled
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: {ns}
spec:
  mtls:
    mode: STRICT
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: ingress
  namespace: {ns}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {{number: 80, name: http, protocol: HTTP}}
    hosts: ["{ns}/*.example.com"]
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--namespaces", type=int, default=200)
    ap.add_argument("--pods", action="store_true")
    ap.add_argument("--pod-ips", action="store_true")
    ap.add_argument("--mistakes", type=int, default=0)
    a = ap.parse_args()
    # Spread the mistakes evenly over the services.
    every = a.services // a.mistakes if a.mistakes else 0
    expected = []
    os.makedirs(a.out, exist_ok=True)
    per_ns = (a.services + a.namespaces - 1) // a.namespaces
    made = 0
    for n in range(a.namespaces):
        ns = f"team-{n:03d}"
        docs = [namespace(ns)]
        for s in range(per_ns):
            if made == a.services:
                break
            name = f"svc-{made:05d}"
            mistake = None
            if every and made % every == 0 and len(expected) < a.mistakes:
                mistake, code, kind = MISTAKES[len(expected) % len(MISTAKES)]
                expected.append({"code": code, "origin": f"{kind} {ns}/{name}", "mistake": mistake})
            docs.append(service(ns, name, made, mistake))
            if a.pods or a.pod_ips:
                docs.append(pods(ns, name, made, a.pod_ips))
            made += 1
        with open(os.path.join(a.out, f"{ns}.yaml"), "w") as f:
            f.write("---\n".join(docs))
    if a.mistakes:
        with open(a.out.rstrip("/") + ".expected.json", "w") as f:
            json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
