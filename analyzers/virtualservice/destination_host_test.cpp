#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("virtualservice.DestinationHostAnalyzer: subset routes have no effect on ingress traffic") {
  auto found = runAnalyzer("virtualservice.DestinationHostAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ingress-no-subset, namespace: default}
spec:
  gateways: [istio-system/gw]
  hosts: [testing-01.com]
  http:
  - route:
    - destination: {host: ratings}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ingress-subset, namespace: default}
spec:
  gateways: [istio-system/gw]
  hosts: [testing-02.com]
  http:
  - route:
    - destination: {host: ratings, subset: v1}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec:
  ports: [{port: 80, name: http}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings-mesh, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: v1}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0140 VirtualService default/ingress-no-subset"});
  CHECK(found[0].text ==
        "Subset in virtual service default/ratings-mesh has no effect on ingress gateway "
        "default/ingress-no-subset requests");
}

TEST_CASE("virtualservice.DestinationHostAnalyzer: ServiceEntry ports, wildcards and mirrors") {
  auto found = runAnalyzer("virtualservice.DestinationHostAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 80, name: http}, {number: 443, name: https}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild, namespace: other}
spec:
  hosts: ["*.wild.com"]
  exportTo: ["."]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  http:
  - route:
    - destination: {host: api.example.com, port: {number: 443}}
    - destination: {host: api.example.com, port: {number: 8080}}
    mirrors:
    - destination: {host: api.example.com}
    - destination: {host: a.wild.com}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0101 VirtualService default/vs", "IST0101 VirtualService default/vs",
                                          "IST0112 VirtualService default/vs"});
  CHECK(found[0].text == "Referenced host:port not found: \"api.example.com:8080\"");
  CHECK(found[1].text == "Referenced mirror host not found: \"a.wild.com\"");
  CHECK(found[2].text ==
        "This VirtualService routes to a service \"api.example.com\" that exposes multiple ports [80 443]. "
        "Specifying a port in the destination is required to disambiguate.");
}
