#include <doctest/doctest.h>

#include "analyzers/gateway/security_test_support.h"

using namespace mesh::analysis::securitytest;
using Strings = std::vector<std::string>;

TEST_CASE("k8sgateway.SelectorAnalyzer: only gateway pods of the policy's namespace count") {
  auto found = run("k8sgateway.SelectorAnalyzer", R"(
apiVersion: v1
kind: Pod
metadata: {name: gw, namespace: a, labels: {gateway.networking.k8s.io/gateway-name: edge, app: edge}}
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: a, labels: {app: web}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: by-app, namespace: a}
spec: {selector: {matchLabels: {app: edge}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-ns, namespace: b}
spec: {selector: {matchLabels: {app: edge}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: extra-label, namespace: a}
spec: {selector: {matchLabels: {app: edge, version: v1}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web, namespace: a}
spec: {selector: {matchLabels: {app: web}}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: empty-selector, namespace: a}
spec: {selector: {}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: no-selector, namespace: a}
spec: {}
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: with-target, namespace: a}
spec:
  selector: {matchLabels: {app: edge}}
  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: edge}
)");
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0166 AuthorizationPolicy a/by-app", "IST0166 RequestAuthentication a/empty-selector"});
  CHECK(found[0].text == "Ineffective selector on Kubernetes Gateway edge. Use the TargetRef field instead.");
}

TEST_CASE("k8sgateway.CRDVersionAnalyzer: bundle versions below Istio's minimum") {
  auto crd = [](std::string_view name, std::string_view version) {
    return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: " +
           std::string(name) + "\n  annotations: {gateway.networking.k8s.io/bundle-version: \"" + std::string(version) +
           "\"}\n---\n";
  };
  auto found =
      run("k8sgateway.CRDVersionAnalyzer",
          crd("tlsroutes.gateway.networking.k8s.io", "v1.4.1") + crd("grpcroutes.gateway.networking.k8s.io", "1.0") +
              crd("backendtlspolicies.gateway.networking.k8s.io", "v1.4.0-rc.1") +
              crd("httproutes.gateway.networking.k8s.io", "v0.1.0") +
              "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
              "  name: tlsroutes.gateway.networking.k8s.io\n---\n");
  // The last definition of tlsroutes (no annotation) replaces the first: istiod logs that case itself.
  CHECK(codesAndOrigins(found) == Strings{"IST0176 CustomResourceDefinition grpcroutes.gateway.networking.k8s.io"});
  CHECK(found[0].text ==
        "Gateway API CRD \"grpcroutes.gateway.networking.k8s.io\" is at version \"1.0.0\" but Istio requires at least "
        "\"1.1.0\"; resources of this kind will not be processed. Upgrade the Gateway API CRDs to satisfy the minimum "
        "version.");

  found =
      run("k8sgateway.CRDVersionAnalyzer", crd("tlsroutes.gateway.networking.k8s.io", "v1.4.1") +
                                               crd("grpcroutes.gateway.networking.k8s.io", "not-a-version") +
                                               crd("backendtlspolicies.gateway.networking.k8s.io", "v1.3.0-rc.1+b1"));
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0176 CustomResourceDefinition backendtlspolicies.gateway.networking.k8s.io",
                "IST0176 CustomResourceDefinition tlsroutes.gateway.networking.k8s.io"});
  CHECK(found[0].text.find("at version \"1.3.0-rc.1+b1\" but Istio requires at least \"1.4.0\"") != std::string::npos);
}
