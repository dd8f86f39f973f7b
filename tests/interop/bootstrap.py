#!/usr/bin/env python3
"""Writes a gRPC xDS bootstrap file for proxyless clients of meshd.

The shape all of gRPC C++, Python and Node accept (../shared/notes/grpc-xds-clients.md): one
insecure xDS v3 server, an Istio-style sidecar node id, and metadata GENERATOR=grpc, which is
how istiod (and meshd) pick the proxyless generator. Use it as a module (write_bootstrap) or:

    bootstrap.py --xds-address 127.0.0.1:15010 [--name client-1 --namespace default] > FILE
"""
import argparse
import json
import sys


def bootstrap(xds_address, name="client-1", namespace="default", ip="127.0.0.1"):
    return {
        "xds_servers": [{
            "server_uri": xds_address,
            "channel_creds": [{"type": "insecure"}],
            "server_features": ["xds_v3"],
        }],
        "node": {
            # Istio's form: TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local
            "id": f"sidecar~{ip}~{name}.{namespace}~{namespace}.svc.cluster.local",
            "locality": {"region": "local", "zone": "local-a"},
            "metadata": {
                "GENERATOR": "grpc",
                "NAMESPACE": namespace,
                "INSTANCE_IPS": ip,
                "CLUSTER_ID": "Kubernetes",
            },
        },
        # Only used by xDS-enabled servers; Istio's template, so meshd sees what istiod would.
        "server_listener_resource_name_template": "xds.istio.io/grpc/lds/inbound/%s",
    }


def write_bootstrap(path, xds_address, **kwargs):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(bootstrap(xds_address, **kwargs), f, indent=2)
        f.write("\n")
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--xds-address", required=True, help="meshd's xDS address, host:port")
    p.add_argument("--name", default="client-1")
    p.add_argument("--namespace", default="default")
    p.add_argument("--ip", default="127.0.0.1")
    a = p.parse_args()
    json.dump(bootstrap(a.xds_address, a.name, a.namespace, a.ip), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
