#include "controlplane/xds/load_assignment.h"

#include <map>

#include "controlplane/model/config_snapshot.h"

namespace mesh::xds {

envoy::config::endpoint::v3::ClusterLoadAssignment buildLoadAssignment(const std::string& clusterName,
                                                                       std::span<const model::Endpoint> endpoints,
                                                                       const core::Node* subsetLabels,
                                                                       bool includeUnhealthy) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(clusterName);
  std::map<std::string, envoy::config::endpoint::v3::LocalityLbEndpoints*> byLocality;
  for (const model::Endpoint& ep : endpoints) {
    if (!model::selectorSelects(subsetLabels, ep.labels)) continue;
    if (!ep.healthy && !includeUnhealthy) continue;
    auto& group = byLocality[ep.locality];
    if (!group) {
      group = cla.add_endpoints();
      std::string_view loc = ep.locality;
      auto* l = group->mutable_locality();
      auto next = [&]() {
        auto slash = loc.find('/');
        std::string part(loc.substr(0, slash));
        loc = slash == std::string_view::npos ? std::string_view() : loc.substr(slash + 1);
        return part;
      };
      l->set_region(next());
      l->set_zone(next());
      l->set_sub_zone(next());
    }
    auto* lb = group->add_lb_endpoints();
    auto* sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa->set_address(ep.address);
    sa->set_port_value(ep.port);
    lb->set_health_status(ep.healthy ? envoy::config::core::v3::HEALTHY : envoy::config::core::v3::UNHEALTHY);
    uint32_t weight = ep.weight ? ep.weight : 1;
    lb->mutable_load_balancing_weight()->set_value(weight);
    group->mutable_load_balancing_weight()->set_value(group->load_balancing_weight().value() + weight);
    // Istio's endpoint metadata: who this endpoint is, for telemetry and proxy-config.
    auto& istio = (*lb->mutable_metadata()->mutable_filter_metadata())["istio"];
    if (!ep.workloadName.empty())
      (*istio.mutable_fields())["workload"].set_string_value(ep.workloadName + ";" + ep.namespace_);
  }
  return cla;
}

}  // namespace mesh::xds
