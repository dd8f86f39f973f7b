// The resource annotations Istio defines (istio/api annotation package): name, maturity,
// deprecation and the resource kinds each may be put on, plus the value checks the sidecar
// injector applies to some of them (Istio pkg/kube/inject AnnotationValidation). Read by
// annotations.K8sAnalyzer and annotations.AlphaAnalyzer. Immutable; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::analysis {

enum class FeatureStatus { Alpha, Beta, Stable };

struct AnnotationDef {
  std::string_view name;
  FeatureStatus status;
  bool deprecated;
  // Kinds it applies to, comma-separated in Istio's order: "Pod", "Any", "GatewayClass,Gateway".
  std::string_view resources;
};

const AnnotationDef* findAnnotation(std::string_view name);
std::vector<std::string_view> annotationResources(const AnnotationDef& def);

// In Istio's domain: the first path segment ends in "istio.io", or the one Kubernetes
// annotation Istio documents, kubernetes.io/ingress.class.
bool isIstioAnnotation(std::string_view name);

// Set by Istio itself (injector, gateway controller), so never reported by either analyzer.
bool isAlwaysIgnoredAnnotation(std::string_view name);

// The error the injector gives for an invalid value, or nullopt when the value is fine or the
// annotation has no check.
std::optional<std::string> validateAnnotationValue(std::string_view name, std::string_view value);

}  // namespace mesh::analysis
