#include "controlplane/server/affected_types.h"

#include "controlplane/xds/xds_resource.h"

namespace mesh::server {

std::set<std::string, std::less<>> typesAffectedBy(const core::ResourceKey& k) {
  namespace t = xds::type_url;
  auto set = [](std::initializer_list<std::string_view> types) {
    std::set<std::string, std::less<>> out;
    for (auto type : types) out.emplace(type);
    return out;
  };
  if ((k.group.empty() && k.kind == "Pod") || (k.group == "discovery.k8s.io" && k.kind == "EndpointSlice"))
    return set({t::kEndpoint});
  if (k.group == "networking.istio.io" && k.kind == "WorkloadEntry") return set({t::kEndpoint});
  if (k.group == "networking.istio.io" && k.kind == "VirtualService") return set({t::kListener, t::kRoute});
  if (k.group == "networking.istio.io" && k.kind == "DestinationRule")
    return set({t::kCluster, t::kEndpoint, t::kListener, t::kRoute});
  if (k.group == "networking.istio.io" && k.kind == "Gateway") return set({t::kListener, t::kRoute});
  if (k.group == "security.istio.io") return set({t::kListener});
  // A gateway's credentialName Secrets reach proxies over SDS only.
  if (k.group.empty() && k.kind == "Secret") return set({t::kSecret});
  return {};
}

}  // namespace mesh::server
