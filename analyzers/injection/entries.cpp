// Workload analyzers: injection, annotations, deployment, service, deprecation, envoyfilter,
// meshnetworks, multicluster, telemetry. annotations.AlphaAnalyzer is deliberately absent:
// istioctl does not register it either (see analyzers/annotations/alpha_analyzer.h).
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

std::unique_ptr<Analyzer> makeInjectionAnalyzer();
std::unique_ptr<Analyzer> makeInjectionImageAnalyzer();
std::unique_ptr<Analyzer> makeInjectionImageAutoAnalyzer();
std::unique_ptr<Analyzer> makeAnnotationsK8sAnalyzer();
std::unique_ptr<Analyzer> makeDeploymentMultiServiceAnalyzer();
std::unique_ptr<Analyzer> makeApplicationUidAnalyzer();
std::unique_ptr<Analyzer> makeServicePortNameAnalyzer();
std::unique_ptr<Analyzer> makeDeprecationAnalyzer();
std::unique_ptr<Analyzer> makeEnvoyPatchAnalyzer();
std::unique_ptr<Analyzer> makeMeshNetworksAnalyzer();
std::unique_ptr<Analyzer> makeMultiClusterServiceAnalyzer();
std::unique_ptr<Analyzer> makeTelemetryProviderAnalyzer();
std::unique_ptr<Analyzer> makeTelemetrySelectorAnalyzer();
std::unique_ptr<Analyzer> makeTelemetryDefaultSelectorAnalyzer();
std::unique_ptr<Analyzer> makeTelemetryLightstepAnalyzer();

void addWorkloadAnalyzers(AnalyzerList& out) {
  out.push_back(makeInjectionAnalyzer());
  out.push_back(makeInjectionImageAnalyzer());
  out.push_back(makeInjectionImageAutoAnalyzer());
  out.push_back(makeAnnotationsK8sAnalyzer());
  out.push_back(makeDeploymentMultiServiceAnalyzer());
  out.push_back(makeApplicationUidAnalyzer());
  out.push_back(makeServicePortNameAnalyzer());
  out.push_back(makeDeprecationAnalyzer());
  out.push_back(makeEnvoyPatchAnalyzer());
  out.push_back(makeMeshNetworksAnalyzer());
  out.push_back(makeMultiClusterServiceAnalyzer());
  out.push_back(makeTelemetryProviderAnalyzer());
  out.push_back(makeTelemetrySelectorAnalyzer());
  out.push_back(makeTelemetryDefaultSelectorAnalyzer());
  out.push_back(makeTelemetryLightstepAnalyzer());
}

}  // namespace mesh::analysis
