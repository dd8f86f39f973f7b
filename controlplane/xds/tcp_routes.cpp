#include "controlplane/xds/tcp_routes.h"

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/listener_common.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/route_action.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;
using model::text;

// Istio's gateway references in a VirtualService: short names are relative to its namespace.
std::string resolveGateway(std::string_view gateway, std::string_view vsNs) {
  if (gateway == "mesh" || gateway.find('/') != std::string_view::npos) return std::string(gateway);
  return fmt::format("{}/{}", vsNs, gateway);
}

const Node* subsetNamed(const core::Resource* dr, std::string_view subset) {
  for (const Node* s : model::items(dr && dr->spec() ? dr->spec()->get("subsets") : nullptr))
    if (text(s, "name") == subset) return s;
  return nullptr;
}

bool usesSourceIpHash(const Node* trafficPolicy) {
  const Node* lb = trafficPolicy ? trafficPolicy->get("loadBalancer") : nullptr;
  return model::boolAt(lb ? lb->get("consistentHash") : nullptr, "useSourceIp").value_or(false);
}

// Istio's buildOutboundNetworkFiltersWithSingleDestination / WithWeightedClusters: the
// DestinationRule's top-level TCP connection settings, and source-IP hashing when the top level
// (or the subset, which overrides it) asks for it (maybeSetHashPolicy).
void applyDestinationRule(TcpProxy& proxy, const core::Resource* dr, std::string_view subset) {
  if (!dr || !dr->spec()) return;
  const Node* policy = dr->spec()->get("trafficPolicy");
  const Node* pool = policy ? policy->get("connectionPool") : nullptr;
  const Node* tcp = pool ? pool->get("tcp") : nullptr;
  if (auto ns = durationNanosAt(tcp, "idleTimeout")) setDuration(*proxy.mutable_idle_timeout(), *ns);
  if (auto ns = durationNanosAt(tcp, "maxConnectionDuration"))
    setDuration(*proxy.mutable_max_downstream_connection_duration(), *ns);
  bool sourceIp = usesSourceIpHash(policy);
  if (const Node* s = subsetNamed(dr, subset)) {
    const Node* sp = s->get("trafficPolicy");
    if (const Node* lb = sp ? sp->get("loadBalancer") : nullptr)
      sourceIp = lb->get("consistentHash") && usesSourceIpHash(sp);
  }
  if (sourceIp) proxy.add_hash_policy()->mutable_source_ip();
}

// Istio's GetDestinationCluster (resolveDestination, shared with RDS); a destination without a
// host is Istio's "UnknownService".
std::string destinationCluster(const ProxyView& view, const core::Resource& vs, const Node* destination,
                               uint32_t listenerPort) {
  if (text(destination, "host").empty()) return "UnknownService";
  return resolveDestination(view, destination, vs.namespace_(), listenerPort).cluster();
}

}  // namespace

bool l4MatchApplies(const ProxyView& view, const core::Resource& vs, const Node* match, uint32_t port,
                    std::string_view gateway) {
  if (!match) return true;
  if (auto p = model::uint32At(match, "port"); p && *p != port) return false;
  auto gateways = model::stringList(match->get("gateways"));
  if (!gateways.empty()) {
    bool found = false;
    for (const std::string& g : gateways) found = found || resolveGateway(g, vs.namespace_()) == gateway;
    if (!found) return false;
  }
  // Istio evaluates the workload predicates for sidecars only (matchTCP/matchTLS); gateways
  // check port and gateway name (l4SingleMatch).
  if (gateway != "mesh") return true;
  if (!model::selectorSelects(match->get("sourceLabels"), view.proxy.labels)) return false;
  std::string_view ns = text(match, "sourceNamespace");
  return ns.empty() || ns == view.proxy.namespace_;
}

std::optional<envoy::config::listener::v3::Filter> tcpProxyForRoutes(const ProxyView& view, const core::Resource& vs,
                                                                     const Node* routes, uint32_t listenerPort) {
  auto list = model::items(routes);
  if (list.empty()) return std::nullopt;
  const Node* first = list.front()->get("destination");
  const model::Service* svc = resolveDestination(view, first, vs.namespace_(), listenerPort).service;
  if (list.size() == 1) {
    return tcpProxyToService(view, destinationCluster(view, vs, first, listenerPort), svc, text(first, "subset"));
  }
  TcpProxy proxy;
  proxy.set_stat_prefix(fmt::format("{}.{}", vs.name(), vs.namespace_()));
  auto* weighted = proxy.mutable_weighted_clusters();
  for (const Node* r : list) {
    uint32_t weight = model::uint32At(r, "weight").value_or(0);
    if (weight == 0) continue;  // Istio sends only destinations with traffic
    auto* c = weighted->add_clusters();
    c->set_name(destinationCluster(view, vs, r->get("destination"), listenerPort));
    c->set_weight(weight);
  }
  if (weighted->clusters_size() == 0) return std::nullopt;
  if (svc) applyDestinationRule(proxy, view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_), "");
  return networkFilter(filter_name::kTcpProxy, proxy);
}

envoy::config::listener::v3::Filter tcpProxyToService(const ProxyView& view, std::string_view cluster,
                                                      const model::Service* svc, std::string_view subset) {
  TcpProxy proxy;
  proxy.set_stat_prefix(std::string(cluster));
  proxy.set_cluster(std::string(cluster));
  if (svc)
    applyDestinationRule(proxy, view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_), subset);
  return networkFilter(filter_name::kTcpProxy, proxy);
}

}  // namespace mesh::xds
