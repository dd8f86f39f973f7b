#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("virtualservice.GatewayAnalyzer: missing gateways and hosts not served") {
  auto found = runAnalyzer("virtualservice.GatewayAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: httpbin-gateway}
spec:
  selector: {istio: ingressgateway}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["./a.com", "team/b.com", "*/*.c.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: ["*"]
  gateways: [httpbin-gateway]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin-bogus}
spec:
  hosts: ["*"]
  gateways: [httpbin-gateway-bogus, mesh]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: in-team, namespace: team}
spec:
  hosts: [b.com]
  gateways: [istio-system/gw]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wildcard, namespace: default}
spec:
  hosts: [x.c.com]
  gateways: [istio-system/gw]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wrong-ns, namespace: default}
spec:
  hosts: [a.com, b.com]
  gateways: [istio-system/gw]
)");
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0101 VirtualService httpbin-bogus", "IST0132 VirtualService default/wrong-ns",
                "IST0132 VirtualService httpbin", "IST0132 VirtualService httpbin-bogus"});
  CHECK(found[1].text == "one or more host [a.com b.com] defined in VirtualService default/wrong-ns not found in "
                         "Gateway istio-system/gw.");
}
