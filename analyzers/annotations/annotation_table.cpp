#include "analyzers/annotations/annotation_table.h"

#include <algorithm>
#include <array>

namespace mesh::analysis {
namespace {

using enum FeatureStatus;

// Istio's resource annotations (istio/api annotation/annotations.yaml), sorted by name.
constexpr std::array kAnnotations = {
    AnnotationDef{"alpha.istio.io/canonical-serviceaccounts", Alpha, true, "Service"},
    AnnotationDef{"alpha.istio.io/kubernetes-serviceaccounts", Alpha, true, "Service"},
    AnnotationDef{"ambient.istio.io/bypass-inbound-capture", Alpha, false, "Pod"},
    AnnotationDef{"ambient.istio.io/redirection", Beta, false, "Pod"},
    AnnotationDef{"ambient.istio.io/waypoint-inbound-binding", Alpha, false,
                  "GatewayClass,Gateway"},
    AnnotationDef{"galley.istio.io/analyze-suppress", Alpha, false, "Any"},
    AnnotationDef{"gateway.istio.io/controller-version", Alpha, false, "Any"},
    AnnotationDef{"gateway.istio.io/name-override", Alpha, false, "Gateway"},
    AnnotationDef{"gateway.istio.io/service-account", Alpha, false, "Gateway"},
    AnnotationDef{"inject.istio.io/templates", Alpha, false, "Pod"},
    AnnotationDef{"istio.io/autoRegistrationGroup", Alpha, false, "WorkloadEntry"},
    AnnotationDef{"istio.io/connectedAt", Alpha, false, "WorkloadEntry"},
    AnnotationDef{"istio.io/disconnectedAt", Alpha, false, "WorkloadEntry"},
    AnnotationDef{"istio.io/dry-run", Alpha, false, "AuthorizationPolicy"},
    AnnotationDef{"istio.io/rev", Alpha, false, "Pod"},
    AnnotationDef{"istio.io/workloadController", Alpha, false, "WorkloadEntry"},
    AnnotationDef{"kubernetes.io/ingress.class", Stable, false, "Ingress"},
    AnnotationDef{"networking.istio.io/exportTo", Alpha, false, "Service"},
    AnnotationDef{"networking.istio.io/service-type", Alpha, false, "Gateway"},
    AnnotationDef{"networking.istio.io/traffic-distribution", Alpha, false, "Service,ServiceEntry"},
    AnnotationDef{"prometheus.istio.io/merge-metrics", Alpha, false, "Pod"},
    AnnotationDef{"proxy.istio.io/config", Beta, false, "Pod"},
    AnnotationDef{"proxy.istio.io/overrides", Alpha, false, "Pod"},
    AnnotationDef{"readiness.status.sidecar.istio.io/applicationPorts", Alpha, false, "Pod"},
    AnnotationDef{"readiness.status.sidecar.istio.io/failureThreshold", Alpha, false, "Pod"},
    AnnotationDef{"readiness.status.sidecar.istio.io/initialDelaySeconds", Alpha, false, "Pod"},
    AnnotationDef{"readiness.status.sidecar.istio.io/periodSeconds", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/agentLogLevel", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/bootstrapOverride", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/componentLogLevel", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/discoveryAddress", Alpha, true, "Pod"},
    AnnotationDef{"sidecar.istio.io/enableCoreDump", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/extraStatTags", Alpha, true, "Pod"},
    AnnotationDef{"sidecar.istio.io/inject", Beta, true, "Pod"},
    AnnotationDef{"sidecar.istio.io/interceptionMode", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/logLevel", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/nativeSidecar", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/proxyCPU", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/proxyCPULimit", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/proxyImage", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/proxyImageType", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/proxyMemory", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/proxyMemoryLimit", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/rewriteAppHTTPProbers", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/statsHistogramBuckets", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/statsInclusionPrefixes", Alpha, true, "Pod"},
    AnnotationDef{"sidecar.istio.io/statsInclusionRegexps", Alpha, true, "Pod"},
    AnnotationDef{"sidecar.istio.io/statsInclusionSuffixes", Alpha, true, "Pod"},
    AnnotationDef{"sidecar.istio.io/status", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/userVolume", Alpha, false, "Pod"},
    AnnotationDef{"sidecar.istio.io/userVolumeMount", Alpha, false, "Pod"},
    AnnotationDef{"status.sidecar.istio.io/port", Alpha, false, "Pod"},
    AnnotationDef{"topology.istio.io/controlPlaneClusters", Alpha, false, "Namespace"},
    AnnotationDef{"traffic.istio.io/nodeSelector", Stable, false, "Service"},
    AnnotationDef{"traffic.sidecar.istio.io/excludeInboundPorts", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/excludeInterfaces", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/excludeOutboundIPRanges", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/excludeOutboundPorts", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/includeInboundPorts", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/includeOutboundIPRanges", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/includeOutboundPorts", Alpha, false, "Pod"},
    AnnotationDef{"traffic.sidecar.istio.io/kubevirtInterfaces", Alpha, false, "Pod"},
};

}  // namespace

const AnnotationDef* findAnnotation(std::string_view name) {
  auto it = std::find_if(kAnnotations.begin(), kAnnotations.end(),
                         [&](const auto& d) { return d.name == name; });
  return it == kAnnotations.end() ? nullptr : &*it;
}

std::vector<std::string_view> annotationResources(const AnnotationDef& def) {
  std::vector<std::string_view> out;
  std::string_view rest = def.resources;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    out.push_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return out;
}

bool isIstioAnnotation(std::string_view name) {
  if (name == "kubernetes.io/ingress.class") return true;
  return name.substr(0, name.find('/')).ends_with("istio.io");
}

bool isAlwaysIgnoredAnnotation(std::string_view name) {
  return name == "sidecar.istio.io/status" || name == "gateway.istio.io/controller-version" ||
         name == "istio.io/rev";
}

}  // namespace mesh::analysis
