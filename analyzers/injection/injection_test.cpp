#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("injection.Analyzer: native sidecars, host network and label values") {
  auto found = run("injection.Analyzer", R"(
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: rev-only, labels: {istio.io/rev: canary}}
---
apiVersion: v1
kind: Pod
metadata: {name: native, namespace: app}
spec:
  initContainers: [{name: istio-proxy, image: proxyv2, restartPolicy: Always}]
  containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: proxy-without-image, namespace: app}
spec:
  containers: [{name: istio-proxy}]
---
apiVersion: v1
kind: Pod
metadata: {name: label-false, namespace: app, labels: {sidecar.istio.io/inject: "FALSE"}}
spec:
  containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: not-checked, namespace: rev-only}
spec:
  containers: [{name: app, image: app}]
)");
  CHECK(found == Strings{"IST0103 Pod app/proxy-without-image"});
}

TEST_CASE("injection.Analyzer: enableNamespacesByDefault per revision ConfigMap") {
  auto found = run("injection.Analyzer", R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"sidecarInjectorWebhook": {"enableNamespacesByDefault": true}}'
---
apiVersion: v1
kind: Namespace
metadata: {name: plain}
)");
  CHECK(found == Strings{"IST0148 Namespace plain"});
  auto texts = workload_testing::texts("injection.Analyzer", R"(
apiVersion: v1
kind: Namespace
metadata: {name: multi, labels: {istio-injection: enabled, istio.io/rev: canary}}
)");
  CHECK(texts ==
        Strings{"The namespace has more than one type of injection labels [istio-injection=enabled "
                "istio.io/rev=canary], which may lead to undefined behavior. Make sure only one "
                "injection "
                "label exists."});
}

TEST_CASE("injection.ImageAnalyzer: image type from ProxyConfig and the pod annotation") {
  constexpr std::string_view kConfigMap = R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global": {"hub": "docker.io/istio", "tag": "1.20.0", "proxy": {"image": "proxyv2"}}}'
---
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {istio-injection: enabled}}
)";
  auto found = run("injection.ImageAnalyzer", std::string(kConfigMap) + R"(
---
apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: app}
spec: {containers: [{name: istio-proxy, image: "docker.io/istio/proxyv2:1.20.0"}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: annotated
  namespace: app
  annotations: {proxy.istio.io/config: "image:\n  imageType: distroless\n"}
spec: {containers: [{name: istio-proxy, image: "docker.io/istio/proxyv2:1.20.0-distroless"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: own-image, namespace: app, annotations: {sidecar.istio.io/proxyImage: custom}}
spec: {containers: [{name: istio-proxy, image: custom}]}
)");
  CHECK(found.empty());
  auto texts = workload_testing::texts("injection.ImageAnalyzer", std::string(kConfigMap) + R"(
---
apiVersion: v1
kind: Pod
metadata: {name: old-native, namespace: app}
spec: {initContainers: [{name: istio-proxy, image: "docker.io/istio/proxyv2:1.19.0"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: wrong-type, namespace: app}
spec: {containers: [{name: istio-proxy, image: "docker.io/istio/proxyv2:1.20.0-distroless"}]}
)");
  REQUIRE(texts.size() == 1);
  CHECK(texts[0].find("(pod names: [old-native wrong-type])") != std::string::npos);
}

TEST_CASE("injection.ImageAutoAnalyzer: webhook selectors decide for Deployments") {
  auto found = run("injection.ImageAutoAnalyzer", R"(
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  namespaceSelector:
    matchExpressions: [{key: istio-injection, operator: In, values: [enabled]}]
- name: not-istio.example.com
---
apiVersion: v1
kind: Namespace
metadata: {name: injected, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: selected, namespace: injected}
spec:
  template:
    spec: {containers: [{name: istio-proxy, image: auto}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: not-selected, namespace: elsewhere}
spec:
  template:
    spec: {containers: [{name: istio-proxy, image: auto}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pod, namespace: injected}
spec: {containers: [{name: istio-proxy, image: auto}]}
)");
  CHECK(found == Strings{"IST0146 Deployment elsewhere/not-selected", "IST0147 Pod injected/pod"});
}
