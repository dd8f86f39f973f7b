"""DestinationRule useClientProtocol end to end: meshd turns it into use_downstream_protocol_config,
and a meshproxy gateway then speaks each client's protocol upstream. The backend is the gRPC
echo_server, which speaks only HTTP/2: gRPC's own client reaches it through the gateway with the
rule, and without it (HTTP/1.1 upstream, Istio's default for an `http` port) every call fails.

usage: meshproxy_client_protocol_test.py MESHPROXY MESHD ECHO_SERVER XDS_CLIENT SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import unittest

MESHPROXY, MESHD, ECHO_SERVER, XDS_CLIENT, SOURCE_DIR = sys.argv[1:6]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "interop"))
from harness import (Meshd, Meshproxy, free_port, gateway_yaml, service_yaml, start_echo,  # noqa: E402
                     temp_processes, wait_for, write_config)

NODE_ID = "router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local"
SERVICE = "echo.edge.svc.cluster.local"
CLIENT_PROTOCOL = f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: echo, namespace: edge}}
spec:
  host: {SERVICE}
  trafficPolicy: {{connectionPool: {{http: {{useClientProtocol: true}}}}}}
"""


def grpc_calls(port, calls):
    """The status codes of `calls` unary calls through 127.0.0.1:port, e.g. {"OK": 5}."""
    p = subprocess.run([XDS_CLIENT, "--target", f"ipv4:127.0.0.1:{port}", "--calls", str(calls),
                        "--deadline-ms", "3000"], capture_output=True, text=True, timeout=60)
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    if p.returncode != 0 or not lines:
        raise ValueError(f"xds_client exited {p.returncode}: {p.stderr[-500:]}")
    return json.loads(lines[-1])["codes"]


class ClientProtocol(unittest.TestCase):
    def setUp(self):
        self.tmp, self.procs = temp_processes(self, "meshproxy-client-protocol-")
        self.gw_port = free_port()
        echo_port = start_echo(self.procs, ECHO_SERVER, "echo")
        self.config_dir = os.path.join(self.tmp, "config")
        self.base = [service_yaml("echo", "edge", echo_port), gateway_yaml(self.gw_port, '"*"', [(None, SERVICE)])]
        write_config(self.config_dir, *self.base, CLIENT_PROTOCOL)
        meshd = Meshd(self.procs, MESHD, self.config_dir).start()
        Meshproxy(self.procs, MESHPROXY, "meshproxy", meshd.xds, NODE_ID, "--type", "router",
                  "--labels", "istio=ingressgateway,app=istio-ingressgateway",
                  "--service-account", "istio-ingressgateway-service-account")

    def test_grpc_reaches_an_h2_only_backend_only_with_use_client_protocol(self):
        wait_for("a gRPC call through the gateway", lambda: grpc_calls(self.gw_port, 1).get("OK") == 1,
                 log=lambda: self.procs.log_tail("meshproxy"))
        self.assertEqual(grpc_calls(self.gw_port, 20), {"OK": 20})
        # Without the rule the cluster is HTTP/1.1, which the echo server does not speak.
        write_config(self.config_dir, *self.base)
        wait_for("calls failing once the rule is gone", lambda: grpc_calls(self.gw_port, 1).get("OK") is None,
                 log=lambda: self.procs.log_tail("meshproxy"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
