#include <doctest/doctest.h>

#include "analyzers/gateway/security_test_support.h"

using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

TEST_CASE("conditions.ConditionAnalyzer: only Istio's negative condition types per kind") {
  auto found = run("conditions.ConditionAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm, namespace: a}
spec: {address: 10.0.0.1}
status:
  conditions:
  - {type: istio.io/WaypointBound, status: "False", reason: WaypointIsNotReady, message: not ready}
  - {type: Healthy, status: "False", reason: Probe, message: failing}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: a}
status:
  conditions:
  - {type: Accepted, status: "True", reason: Accepted, message: ok}
  - {type: Ready, status: "False", reason: Old, message: deprecated condition}
  listeners:
  - name: http
    conditions:
    - {type: Programmed, status: "False", reason: Invalid, message: listener conditions are not read}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ap, namespace: a}
status:
  conditions:
  - {type: WaypointAccepted, status: "False", reason: PartiallyInvalid, message: bad ref}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: a}
status:
  parents:
  - conditions: [{type: ResolvedRefs, status: "False", reason: BackendNotFound, message: no backend}]
  - conditions: [{type: Accepted, status: "True", reason: Accepted, message: ok}]
)");
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0171 AuthorizationPolicy a/ap", "IST0171 HTTPRoute a/r", "IST0171 WorkloadEntry a/vm"});
  CHECK(found[2].text ==
        "A condition with a negative status is present: type=istio.io/WaypointBound, reason=WaypointIsNotReady, "
        "message=not ready.");
}
