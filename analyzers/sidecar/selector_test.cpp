#include <doctest/doctest.h>

#include "analyzers/testing/run_analyzer.h"

using namespace mesh::analysis::testing;
using Strings = std::vector<std::string>;

TEST_CASE("sidecar.SelectorAnalyzer: selector-less Sidecars and ambient mode") {
  auto found = runAnalyzer("sidecar.SelectorAnalyzer", R"(
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: no-selector, namespace: ns1}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: has-selector, namespace: ns1}
spec:
  workloadSelector: {labels: {app: foo}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: has-conflict-1, namespace: ns2}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: has-conflict-2, namespace: ns2}
---
apiVersion: v1
kind: Pod
metadata: {name: random-pod, namespace: ns1, labels: {app: foo}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns-ambient, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata:
  name: ambient-pod
  namespace: ns-ambient
  labels: {app: ambient}
  annotations: {ambient.istio.io/redirection: enabled}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: namespace-scoped, namespace: ns-ambient}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: pod-scoped, namespace: ns-ambient}
spec:
  workloadSelector: {labels: {app: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns-injected, labels: {istio.io/dataplane-mode: ambient, istio-injection: enabled}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: injected, namespace: ns-injected}
)");
  CHECK(codesAndOrigins(found) ==
        Strings{"IST0111 Sidecar ns2/has-conflict-1", "IST0111 Sidecar ns2/has-conflict-2",
                "IST0167 Sidecar ns-ambient/namespace-scoped", "IST0167 Sidecar ns-ambient/pod-scoped"});
  CHECK(found[0].text ==
        "The Sidecars [has-conflict-1 has-conflict-2] in namespace \"ns2\" have no workload selector, which can lead "
        "to undefined behavior.");
}
