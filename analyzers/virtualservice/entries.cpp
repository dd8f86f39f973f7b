// The routing analyzers: virtualservice, destinationrule, serviceentry, sidecar.
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

std::unique_ptr<Analyzer> makeVirtualServiceDestinationRuleAnalyzer();
std::unique_ptr<Analyzer> makeConflictingMeshGatewayHostsAnalyzer();
std::unique_ptr<Analyzer> makeDestinationHostAnalyzer();
std::unique_ptr<Analyzer> makeVirtualServiceGatewayAnalyzer();
std::unique_ptr<Analyzer> makeJwtClaimRouteAnalyzer();
std::unique_ptr<Analyzer> makeCaCertificateAnalyzer();
std::unique_ptr<Analyzer> makeSubsetSelectPodAnalyzer();
std::unique_ptr<Analyzer> makeProtocolAddressesAnalyzer();
std::unique_ptr<Analyzer> makeConflictingServiceEntryProtocolAnalyzer();
std::unique_ptr<Analyzer> makeSidecarSelectorAnalyzer();

void addRoutingAnalyzers(AnalyzerList& out) {
  out.push_back(makeVirtualServiceDestinationRuleAnalyzer());
  out.push_back(makeConflictingMeshGatewayHostsAnalyzer());
  out.push_back(makeDestinationHostAnalyzer());
  out.push_back(makeVirtualServiceGatewayAnalyzer());
  out.push_back(makeJwtClaimRouteAnalyzer());
  out.push_back(makeCaCertificateAnalyzer());
  out.push_back(makeSubsetSelectPodAnalyzer());
  out.push_back(makeProtocolAddressesAnalyzer());
  out.push_back(makeConflictingServiceEntryProtocolAnalyzer());
  out.push_back(makeSidecarSelectorAnalyzer());
}

}  // namespace mesh::analysis
