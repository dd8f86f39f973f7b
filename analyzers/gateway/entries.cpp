// Gateway and security analyzers: gateway, k8sgateway, externalcontrolplane, webhook,
// conditions, auth, authn.
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

std::unique_ptr<Analyzer> makeGatewayIngressGatewayPortAnalyzer();
std::unique_ptr<Analyzer> makeGatewayCertificateAnalyzer();
std::unique_ptr<Analyzer> makeGatewaySecretAnalyzer();
std::unique_ptr<Analyzer> makeGatewayConflictingGatewayAnalyzer();
std::unique_ptr<Analyzer> makeK8sGatewaySelectorAnalyzer();
std::unique_ptr<Analyzer> makeK8sGatewayCrdVersionAnalyzer();
std::unique_ptr<Analyzer> makeExternalControlPlaneAnalyzer();
std::unique_ptr<Analyzer> makeWebhookAnalyzer();
std::unique_ptr<Analyzer> makeConditionAnalyzer();
std::unique_ptr<Analyzer> makeAuthorizationPoliciesAnalyzer();
std::unique_ptr<Analyzer> makeBlockedCidrsAnalyzer();

void addGatewayAndSecurityAnalyzers(AnalyzerList& out) {
  out.push_back(makeGatewayIngressGatewayPortAnalyzer());
  out.push_back(makeGatewayCertificateAnalyzer());
  out.push_back(makeGatewaySecretAnalyzer());
  out.push_back(makeGatewayConflictingGatewayAnalyzer());
  out.push_back(makeK8sGatewaySelectorAnalyzer());
  out.push_back(makeK8sGatewayCrdVersionAnalyzer());
  out.push_back(makeExternalControlPlaneAnalyzer());
  out.push_back(makeWebhookAnalyzer());
  out.push_back(makeConditionAnalyzer());
  out.push_back(makeAuthorizationPoliciesAnalyzer());
  out.push_back(makeBlockedCidrsAnalyzer());
}

}  // namespace mesh::analysis
