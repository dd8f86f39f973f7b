#include "controlplane/xds/load_assignment.h"

#include <map>

#include "controlplane/model/config_snapshot.h"

namespace mesh::xds {
namespace {

std::string_view firstLabel(const model::Labels& labels, std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    auto it = labels.find(key);
    if (it != labels.end() && !it->second.empty()) return it->second;
  }
  return {};
}

// Istio's istio.workload endpoint metadata, "NAME;NAMESPACE;CANONICAL_NAME;CANONICAL_REVISION;CLUSTER_ID",
// with Istio's canonical service rules: service.istio.io/canonical-name, app.kubernetes.io/name,
// app, else the workload name; service.istio.io/canonical-revision, app.kubernetes.io/version,
// version, else "latest". The registry does not record which cluster an endpoint came from,
// so CLUSTER_ID is left empty (proxies report it as unknown).
std::string workloadMetadata(const model::Endpoint& ep) {
  std::string_view name = firstLabel(ep.labels, {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"});
  std::string_view revision =
      firstLabel(ep.labels, {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"});
  std::string out = ep.workloadName + ";" + ep.namespace_ + ";";
  out += name.empty() ? std::string_view(ep.workloadName) : name;
  out += ";";
  out += revision.empty() ? std::string_view("latest") : revision;
  out += ";";
  return out;
}

}  // namespace

envoy::config::endpoint::v3::ClusterLoadAssignment buildLoadAssignment(
    const std::string& clusterName, std::span<const model::Endpoint> endpoints, const core::Node* subsetLabels,
    bool includeUnhealthy, std::vector<std::vector<const model::Endpoint*>>* groups) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(clusterName);
  std::map<std::string, envoy::config::endpoint::v3::LocalityLbEndpoints*> byLocality;
  std::map<const envoy::config::endpoint::v3::LocalityLbEndpoints*, size_t> groupIndex;
  for (const model::Endpoint& ep : endpoints) {
    if (!model::selectorSelects(subsetLabels, ep.labels)) continue;
    if (!ep.healthy && !includeUnhealthy) continue;
    auto& group = byLocality[ep.locality];
    if (!group) {
      group = cla.add_endpoints();
      if (groups) {
        groupIndex.emplace(group, groups->size());
        groups->emplace_back();
      }
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
    if (groups) (*groups)[groupIndex.at(group)].push_back(&ep);
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
      (*istio.mutable_fields())["workload"].set_string_value(workloadMetadata(ep));
    // Auto mTLS: the cluster's transport_socket_matches pick mesh mTLS for these endpoints.
    if (ep.istioMutualCapable) {
      auto& match = (*lb->mutable_metadata()->mutable_filter_metadata())["envoy.transport_socket_match"];
      (*match.mutable_fields())["tlsMode"].set_string_value("istio");
    }
  }
  return cla;
}

}  // namespace mesh::xds
