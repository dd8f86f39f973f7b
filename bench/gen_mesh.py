#!/usr/bin/env python3
"""Generates a synthetic mesh for benchmarks: N services spread over M namespaces, one file
per namespace, six resources per service (Service, Deployment, ServiceAccount,
VirtualService, DestinationRule, AuthorizationPolicy) plus a Namespace and a
PeerAuthentication per namespace. Deterministic for given arguments.

Usage: gen_mesh.py OUT_DIR [--services 10000] [--namespaces 200]
"""
import argparse
import os


def service(ns, name, i):
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
        host: {name}.{ns}.svc.cluster.local
        subset: v2
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
        subset: v2
      weight: 10
    timeout: 5s
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
    labels: {{version: v2}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector:
    matchLabels: {{app: {name}}}
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
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--namespaces", type=int, default=200)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    per_ns = (a.services + a.namespaces - 1) // a.namespaces
    made = 0
    for n in range(a.namespaces):
        ns = f"team-{n:03d}"
        docs = [namespace(ns)]
        for s in range(per_ns):
            if made == a.services:
                break
            docs.append(service(ns, f"svc-{made:05d}", made))
            made += 1
        with open(os.path.join(a.out, f"{ns}.yaml"), "w") as f:
            f.write("---\n".join(docs))


if __name__ == "__main__":
    main()
