// Gateway and security analyzers: gateway, k8sgateway, externalcontrolplane, webhook,
// conditions, auth, authn.
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

void addGatewayAndSecurityAnalyzers(AnalyzerList& out) { (void)out; }

}  // namespace mesh::analysis
