#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

namespace {

constexpr std::string_view kRoute = R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: foo}
spec:
  hosts: [foo.com]
  gateways: [foo-gateway]
  http:
  - match:
    - withoutHeaders: {"@request.auth.claims.group": {exact: admin}}
    route:
    - destination: {host: foo}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: foo-gateway}
spec:
  selector: {istio: ingressgateway}
)";

}  // namespace

TEST_CASE("virtualservice.JWTClaimRouteAnalyzer: a RequestAuthentication must select the gateway pods") {
  CHECK(codesAndOrigins(runAnalyzer("virtualservice.JWTClaimRouteAnalyzer", kRoute)) ==
        Strings{"IST0149 VirtualService foo"});
  std::string withAuthn = std::string(kRoute) + R"(---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ra, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
)";
  CHECK(runAnalyzer("virtualservice.JWTClaimRouteAnalyzer", withAuthn).empty());
  std::string otherPods = std::string(kRoute) + R"(---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ra, namespace: istio-system}
spec:
  selector: {matchLabels: {app: other}}
)";
  CHECK(runAnalyzer("virtualservice.JWTClaimRouteAnalyzer", otherPods).size() == 1);
}
