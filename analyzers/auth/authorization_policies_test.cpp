#include <doctest/doctest.h>

#include "analyzers/gateway/security_test_support.h"

using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

TEST_CASE("auth.AuthorizationPoliciesAnalyzer: which pods are in the mesh") {
  auto found = run("auth.AuthorizationPoliciesAnalyzer", R"(
apiVersion: v1
kind: Namespace
metadata: {name: injected, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: opted-out, namespace: injected, labels: {app: a, sidecar.istio.io/inject: "false"}}
---
apiVersion: v1
kind: Pod
metadata: {name: proxy-no-image, namespace: plain, labels: {app: b}}
spec: {containers: [{name: istio-proxy}]}
---
apiVersion: v1
kind: Pod
metadata: {name: annotated, namespace: plain, labels: {app: c}, annotations: {sidecar.istio.io/inject: "true"}}
---
apiVersion: v1
kind: Pod
metadata: {name: init-proxy, namespace: plain, labels: {app: d}}
spec: {initContainers: [{name: istio-proxy, image: proxyv2}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a, namespace: injected}
spec: {selector: {matchLabels: {app: a}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: b, namespace: plain}
spec: {selector: {matchLabels: {app: b}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: c, namespace: plain}
spec: {selector: {matchLabels: {app: c}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: d, namespace: plain}
spec: {selector: {matchLabels: {app: d}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-d, namespace: istio-system}
spec: {selector: {matchLabels: {app: d}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: all, namespace: injected}
spec: {}
)");
  CHECK(codesAndOrigins(found) == Strings{"IST0127 AuthorizationPolicy injected/a",
                                          "IST0127 AuthorizationPolicy injected/all",
                                          "IST0127 AuthorizationPolicy plain/b"});
  CHECK(found[0].text == "No matching workloads for this resource with the following labels: app=a");
  CHECK(found[1].text == "No matching workloads for this resource with the following labels: ");
}

TEST_CASE("auth.AuthorizationPoliciesAnalyzer: source namespaces match existing Namespaces") {
  std::string policy = R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: istio-system}
spec:
  rules:
  - from:
    - source: {namespaces: ["*", "Prod", "dev-*"], notNamespaces: ["*-test"]}
)";
  // With no Namespace objects at all even "*" matches nothing, as in Istio.
  CHECK(run("auth.AuthorizationPoliciesAnalyzer", policy).size() == 4);
  auto found = run("auth.AuthorizationPoliciesAnalyzer",
                   policy +
                       "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n---\n"
                       "apiVersion: v1\nkind: Namespace\nmetadata: {name: dev-1}\n");
  CHECK(codesAndOrigins(found) == Strings{"IST0101 AuthorizationPolicy istio-system/p"});
  CHECK(found[0].text == "Referenced namespace not found: \"*-test\"");
}
