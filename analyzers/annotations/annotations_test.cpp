#include <doctest/doctest.h>

#include "analyzers/annotations/alpha_analyzer.h"
#include "analyzers/annotations/annotation_table.h"
#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("annotation value checks follow the sidecar injector") {
  CHECK_FALSE(validateAnnotationValue("readiness.status.sidecar.istio.io/periodSeconds", "10"));
  CHECK(validateAnnotationValue("readiness.status.sidecar.istio.io/initialDelaySeconds", "bar") ==
        "strconv.ParseUint: parsing \"bar\": invalid syntax");
  CHECK(
      validateAnnotationValue("readiness.status.sidecar.istio.io/failureThreshold", "4294967296") ==
      "strconv.ParseUint: parsing \"4294967296\": value out of range");
  CHECK_FALSE(validateAnnotationValue("sidecar.istio.io/interceptionMode", "TPROXY"));
  CHECK(validateAnnotationValue("sidecar.istio.io/interceptionMode", "redirect").has_value());
  CHECK_FALSE(validateAnnotationValue("traffic.sidecar.istio.io/includeOutboundIPRanges", "*"));
  CHECK_FALSE(validateAnnotationValue("traffic.sidecar.istio.io/includeOutboundIPRanges",
                                      "10.0.0.0/8,fd00::/8"));
  CHECK(validateAnnotationValue("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.1") ==
        "excludeIPRanges invalid: failed parsing cidr '10.0.0.1': netip.ParsePrefix(\"10.0.0.1\"): "
        "no '/'");
  CHECK(validateAnnotationValue("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/33")
            .has_value());
  CHECK_FALSE(
      validateAnnotationValue("traffic.sidecar.istio.io/excludeInboundPorts", " 15020, 15021 "));
  CHECK_FALSE(validateAnnotationValue("traffic.sidecar.istio.io/excludeOutboundPorts", ""));
  CHECK(validateAnnotationValue("traffic.sidecar.istio.io/includeInboundPorts", "80,http") ==
        "includeInboundPorts invalid: failed parsing port 'http': failed parsing port 'http': "
        "strconv.ParseUint: parsing \"http\": invalid syntax");
  CHECK(
      validateAnnotationValue("traffic.sidecar.istio.io/excludeInboundPorts", "65536").has_value());
  CHECK_FALSE(validateAnnotationValue("prometheus.istio.io/merge-metrics", "True"));
  CHECK(validateAnnotationValue("prometheus.istio.io/merge-metrics", "yes").has_value());
  CHECK_FALSE(validateAnnotationValue("proxy.istio.io/config", "{}"));
  CHECK_FALSE(validateAnnotationValue("proxy.istio.io/config",
                                      "holdApplicationUntilProxyStarts: true\nconcurrency: 2"));
  CHECK(validateAnnotationValue("proxy.istio.io/config", "concurrency: two").has_value());
  CHECK(validateAnnotationValue("proxy.istio.io/config", "[").has_value());
  CHECK_FALSE(validateAnnotationValue("sidecar.istio.io/proxyCPU", "anything"));
}

TEST_CASE("the annotation table knows Istio's annotations and where they go") {
  REQUIRE(findAnnotation("sidecar.istio.io/inject"));
  CHECK(findAnnotation("sidecar.istio.io/inject")->deprecated);
  CHECK(findAnnotation("proxy.istio.io/config")->status == FeatureStatus::Beta);
  REQUIRE(findAnnotation("ambient.istio.io/waypoint-inbound-binding"));
  CHECK(annotationResources(*findAnnotation("ambient.istio.io/waypoint-inbound-binding")) ==
        std::vector<std::string_view>{"GatewayClass", "Gateway"});
  CHECK_FALSE(findAnnotation("networking.istio.io/exportThree"));
  CHECK(isIstioAnnotation("sidecar.istio.io/inject"));
  CHECK(isIstioAnnotation("kubernetes.io/ingress.class"));
  CHECK_FALSE(isIstioAnnotation("kubernetes.io/psp"));
  CHECK_FALSE(isIstioAnnotation("helm.sh/hook"));
}

TEST_CASE("annotations.K8sAnalyzer: the deprecated inject annotation") {
  auto found = texts("annotations.K8sAnalyzer", R"(
apiVersion: v1
kind: Pod
metadata:
  name: only-annotation
  namespace: a
  annotations: {sidecar.istio.io/inject: "true"}
---
apiVersion: v1
kind: Pod
metadata:
  name: both
  namespace: a
  labels: {sidecar.istio.io/inject: "true"}
  annotations: {sidecar.istio.io/inject: "true", sidecar.istio.io/status: "{}", istio.io/rev: canary}
---
apiVersion: v1
kind: Service
metadata:
  name: svc
  namespace: a
  annotations: {networking.istio.io/exportTo: ".", sidecar.istio.io/proxyCPU: "100m"}
)");
  CHECK(found ==
        Strings{"Annotation \"sidecar.istio.io/inject\" has been deprecated in favor of the "
                "\"sidecar.istio.io/inject\" label and may not work in future Istio versions.",
                "Misplaced annotation: sidecar.istio.io/proxyCPU can only be applied to Pod"});
}

TEST_CASE("annotations.AlphaAnalyzer is not registered but reports alpha annotations") {
  RunOptions options;
  options.analyzers = {"annotations.AlphaAnalyzer"};
  auto snapshot = snapshotOf(R"(
apiVersion: v1
kind: Service
metadata:
  name: httpbin
  annotations: {networking.istio.io/exportThree: bar, networking.istio.io/exportTo: baz}
---
apiVersion: v1
kind: Pod
metadata:
  name: invalid-annotations
  annotations:
    readiness.status.sidecar.istio.io/initialDelaySeconds: bar
    readiness.status.sidecar.istio.io/periodSeconds: "10"
---
apiVersion: v1
kind: Pod
metadata:
  name: grafana-test
  annotations: {proxy.istio.io/config: "{}", kubernetes.io/ingress.class: istio, gateway.istio.io/controller-version: "5"}
---
apiVersion: v1
kind: Pod
metadata:
  name: cni-pod
  annotations: {sidecar.istio.io/interceptionMode: REDIRECT, traffic.sidecar.istio.io/includeInboundPorts: '*'}
spec:
  initContainers: [{name: istio-validation}]
---
apiVersion: v1
kind: Pod
metadata:
  name: init-pod
  annotations: {sidecar.istio.io/interceptionMode: REDIRECT, traffic.sidecar.istio.io/includeInboundPorts: '*'}
spec:
  initContainers: [{name: istio-init}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: fortio-deploy
  annotations: {sidecar.istio.io/statsInclusionPrefixes: cluster.outbound}
---
apiVersion: v1
kind: Pod
metadata:
  name: ignored
  annotations: {istio.io/rev: rev, ambient.istio.io/redirection: enabled, sidecar.istio.io/status: x}
)");
  CHECK(runAnalyzers(*snapshot, options).ran.empty());  // istioctl never runs it

  auto alpha = makeAnnotationsAlphaAnalyzer();
  CHECK(alpha->info().name == "annotations.AlphaAnalyzer");
  Reporter reporter;
  alpha->analyze(*snapshot, reporter);
  CHECK(linesOf(reporter.messages()) ==
        Strings{"IST0136 Deployment fortio-deploy", "IST0136 Pod init-pod", "IST0136 Pod init-pod",
                "IST0136 Pod invalid-annotations", "IST0136 Pod invalid-annotations",
                "IST0136 Service httpbin"});
}
