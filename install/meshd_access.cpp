#include "install/meshd_access.h"

#include <algorithm>
#include <map>
#include <string>

#include "install/crd.h"

namespace mesh::install {
namespace {

// Beyond the Istio kinds: the service registry (Services, Pods, EndpointSlices; Nodes for the
// topology labels that give pods their locality, as istiod reads them), the namespaces
// Gateway API routes are allowed from, and the Gateway API kinds meshd converts to Istio
// Gateways and VirtualServices (controlplane/model). ConfigMaps and Secrets only in meshd's
// own namespace, through a Role (meshdNamespaceRules).
constexpr std::pair<std::string_view, std::string_view> kOtherKinds[] = {
    {"", "Namespace"},
    {"", "Service"},
    {"", "Pod"},
    {"", "Node"},
    {"discovery.k8s.io", "EndpointSlice"},
    {"gateway.networking.k8s.io", "GatewayClass"},
    {"gateway.networking.k8s.io", "Gateway"},
    {"gateway.networking.k8s.io", "HTTPRoute"},
    {"gateway.networking.k8s.io", "GRPCRoute"},
    {"gateway.networking.k8s.io", "TCPRoute"},
    {"gateway.networking.k8s.io", "TLSRoute"},
    {"gateway.networking.k8s.io", "ReferenceGrant"},
};

}  // namespace

std::vector<const core::KindInfo*> meshdReadKinds() {
  std::vector<const core::KindInfo*> out = istioKinds();
  for (auto [group, kind] : kOtherKinds)
    if (const core::KindInfo* k = core::findKind(group, kind)) out.push_back(k);
  return out;
}

nlohmann::ordered_json meshdReadRules() {
  std::map<std::string, std::vector<std::string>> byGroup;  // "" sorts first
  for (const auto* k : meshdReadKinds()) byGroup[std::string(k->group)].push_back(std::string(k->plural));
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (auto& [group, resources] : byGroup) {
    std::sort(resources.begin(), resources.end());
    rules.push_back(nlohmann::ordered_json{{"apiGroups", nlohmann::ordered_json::array({group})},
                                           {"resources", resources},
                                           {"verbs", nlohmann::ordered_json::array({"get", "list", "watch"})}});
  }
  return rules;
}

nlohmann::ordered_json meshdNamespaceRules() {
  return nlohmann::ordered_json::array({nlohmann::ordered_json{{"apiGroups", nlohmann::ordered_json::array({""})},
                                                               {"resources", nlohmann::ordered_json::array({"configmaps", "secrets"})},
                                                               {"verbs", nlohmann::ordered_json::array({"get", "list", "watch"})}}});
}

}  // namespace mesh::install
