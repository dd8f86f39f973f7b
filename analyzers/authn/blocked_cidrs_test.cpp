#include <doctest/doctest.h>

#include "analyzers/gateway/security_test_support.h"

using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

TEST_CASE("authn.BlockedCIDRsAnalyzer: istiod needs BLOCKED_CIDRS_IN_JWKS_URIS once JWTs are used") {
  std::string ras;
  for (int i = 0; i < 7; ++i)
    ras += "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: ra" + std::to_string(i) +
           ", namespace: default}\n---\n";
  auto found = run("authn.BlockedCIDRsAnalyzer", ras + R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system, labels: {app: istiod}}
spec:
  template:
    spec:
      containers:
      - name: discovery
        env:
        - name: BLOCKED_CIDRS_IN_JWKS_URIS
          valueFrom: {configMapKeyRef: {name: x, key: y}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod-canary, namespace: istio-system, labels: {app: istiod}}
spec:
  template:
    spec:
      containers:
      - name: discovery
        env: [{name: BLOCKED_CIDRS_IN_JWKS_URIS, value: "10.0.0.0/8"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: default}
spec: {template: {spec: {containers: [{name: app}]}}}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0175 Deployment istio-system/istiod"});
  CHECK(found[0].text ==
        "BLOCKED_CIDRS_IN_JWKS_URIS is not configured but 7 RequestAuthentication resource(s) exist (default/ra0, "
        "default/ra1, default/ra2, default/ra3, default/ra4, and 2 more). Consider configuring it to restrict JWKS URI "
        "fetches to trusted networks.");
}
