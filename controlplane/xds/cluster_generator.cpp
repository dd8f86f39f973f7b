#include "controlplane/xds/cluster_generator.h"

#include <set>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/model/service_targets.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/load_assignment.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/security/security_filters.h"
#include "controlplane/xds/traffic_policy.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace mesh::xds {
namespace {

using envoy::config::cluster::v3::Cluster;

constexpr int64_t kDefaultConnectTimeout = 10LL * 1000000000;  // Istio's MeshConfig default

void setEds(Cluster& c) {
  c.set_type(Cluster::EDS);
  auto* eds = c.mutable_eds_cluster_config();
  eds->set_service_name(c.name());
  eds->mutable_eds_config()->mutable_ads();
  eds->mutable_eds_config()->set_resource_api_version(envoy::config::core::v3::V3);
}

Cluster wellKnown(std::string_view name, Cluster::DiscoveryType type) {
  Cluster c;
  c.set_name(std::string(name));
  c.set_type(type);
  setDuration(*c.mutable_connect_timeout(), kDefaultConnectTimeout);
  if (type == Cluster::ORIGINAL_DST) c.set_lb_policy(Cluster::CLUSTER_PROVIDED);
  return c;
}

// The SPIFFE identities of the service's mesh workloads on `port` (Istio's
// service.ServiceAccounts), which a client's mesh mTLS accepts from the server; sorted.
std::vector<std::string> meshIdentities(const ProxyView& view, const model::Service& svc, uint32_t port) {
  std::set<std::string> out;
  for (const model::Endpoint& ep : view.snapshot.registry().endpoints(svc, port)) {
    if (!ep.istioMutualCapable || ep.serviceAccount.empty()) continue;
    out.insert(fmt::format("spiffe://{}/ns/{}/sa/{}", view.snapshot.options().trustDomain, ep.namespace_,
                           ep.serviceAccount));
  }
  return {out.begin(), out.end()};
}

}  // namespace

Cluster buildOutboundCluster(const ProxyView& view, const model::Service& svc, const model::ServicePort& port,
                             std::string_view subset, bool forGrpcClient) {
  Cluster c;
  c.set_name(outboundCluster(port.port, subset, svc.hostname));
  setDuration(*c.mutable_connect_timeout(), kDefaultConnectTimeout);
  const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc.hostname, svc.namespace_);
  switch (svc.resolution) {
    case model::Resolution::ClientSideLB:
      setEds(c);
      break;
    case model::Resolution::Dns:
    case model::Resolution::DnsRoundRobin: {
      c.set_type(svc.resolution == model::Resolution::Dns ? Cluster::STRICT_DNS : Cluster::LOGICAL_DNS);
      c.set_dns_lookup_family(Cluster::V4_ONLY);
      auto eps = view.snapshot.registry().endpoints(svc, port.port);
      *c.mutable_load_assignment() = buildLoadAssignment(c.name(), eps, subsetLabels(dr, subset), true);
      break;
    }
    case model::Resolution::Passthrough:
      c.set_type(Cluster::ORIGINAL_DST);
      c.set_lb_policy(Cluster::CLUSTER_PROVIDED);
      break;
  }
  if (forGrpcClient && c.type() != Cluster::EDS) setEds(c);  // gRPC takes EDS or aggregate only
  ClusterPolicyOptions options;
  options.host = svc.hostname;
  options.port = port.port;
  options.subset = subset;
  options.http2 = model::isHttp2Protocol(port.protocol);
  options.forGrpcClient = forGrpcClient;
  bool passthrough = c.type() == Cluster::ORIGINAL_DST;
  options.autoMtls = !svc.meshExternal && !passthrough &&
                     namespaceMtlsMode(view.snapshot, svc.namespace_) != MtlsMode::Disable;
  options.subjectAltNames = meshIdentities(view, svc, port.port);
  options.meshLocalityLbSetting = view.snapshot.meshConfig().localityLbSetting;
  applyTrafficPolicy(c, effectivePolicy(dr, port.port, subset), options);
  if (passthrough) c.set_lb_policy(Cluster::CLUSTER_PROVIDED);
  // Istio's cluster metadata: which service and DestinationRule made this cluster, read by
  // proxy-config and describe.
  auto& istio = (*c.mutable_metadata()->mutable_filter_metadata())["istio"];
  auto& services = (*istio.mutable_fields())["services"];
  auto* entry = services.mutable_list_value()->add_values()->mutable_struct_value();
  (*entry->mutable_fields())["host"].set_string_value(svc.hostname);
  (*entry->mutable_fields())["name"].set_string_value(svc.name);
  (*entry->mutable_fields())["namespace"].set_string_value(svc.namespace_);
  if (dr) (*istio.mutable_fields())["config"].set_string_value(
      fmt::format("/apis/networking.istio.io/v1/namespaces/{}/destination-rule/{}", dr->namespace_(), dr->name()));
  if (!subset.empty()) (*istio.mutable_fields())["subset"].set_string_value(std::string(subset));
  return c;
}

GeneratedResources ClusterGenerator::generateShared(const ProxyView& view, const ResourceNames& names) const {
  if (!names.wildcard || !view.cache) return Generator::generateShared(view, names);
  // What the inbound clusters depend on: the workload ports and whether each speaks HTTP/2.
  std::string key = view.outboundKey("cds-all");
  key += view.proxy.type == model::ProxyType::Sidecar ? "|sidecar" : "|router";
  if (view.proxy.type == model::ProxyType::Sidecar) {
    // As generate() builds them: the first target of each port decides.
    std::set<uint32_t> seen;
    for (const model::ServiceTarget& t : model::serviceTargets(view.snapshot, view.proxy))
      if (seen.insert(t.endpoint->port).second)
        key += fmt::format("|{}{}", t.endpoint->port, model::isHttp2Protocol(t.port->protocol) ? "h2" : "");
  }
  return {view.shared(key, [&] { return generate(view, names); }), true};
}

XdsResources ClusterGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  auto add = [&](const Cluster& c) {
    if (names.contains(c.name())) out.push_back(XdsResource::of(c.name(), c));
  };
  auto outbound = view.shared(view.outboundKey("cds"), [&] {
    XdsResources all;
    for (const model::Service* svc : view.scope.services()) {
      const core::Resource* dr = view.snapshot.destinationRule(view.proxy, svc->hostname, svc->namespace_);
      // An outbound cluster is a function of the service and the rule the proxy resolves, so
      // scopes (namespaces) that resolve the same ones share it instead of each building it.
      auto cluster = [&](const model::ServicePort& port, std::string_view subset) {
        auto build = [&] {
          Cluster c = buildOutboundCluster(view, *svc, port, subset, false);
          return XdsResources{XdsResource::of(c.name(), c)};
        };
        auto shared = view.shared(fmt::format("cluster|{}|{}|{}|{}|{}", svc->hostname, port.port, subset,
                                              static_cast<const void*>(svc), static_cast<const void*>(dr)),
                                  build);
        all.push_back(shared->front());
      };
      for (const model::ServicePort& port : svc->ports) {
        if (port.protocol == model::Protocol::Udp) continue;  // Envoy sidecars do not proxy UDP
        cluster(port, "");
        for (const core::Node* s : model::items(dr && dr->spec() ? dr->spec()->get("subsets") : nullptr)) {
          std::string_view subset = model::text(s, "name");
          if (!subset.empty()) cluster(port, subset);
        }
      }
    }
    return all;
  });
  for (const XdsResource& r : *outbound)
    if (names.contains(r.name)) out.push_back(r);
  if (view.proxy.type == model::ProxyType::Sidecar) {
    // Inbound: the application behind this sidecar, on loopback at the workload port.
    std::set<uint32_t> seen;
    for (const model::ServiceTarget& t : model::serviceTargets(view.snapshot, view.proxy)) {
      if (!seen.insert(t.endpoint->port).second) continue;
      Cluster c = wellKnown(inboundCluster(t.endpoint->port), Cluster::STATIC);
      auto* cla = c.mutable_load_assignment();
      cla->set_cluster_name(c.name());
      auto* sa = cla->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
      sa->set_address("127.0.0.1");
      sa->set_port_value(t.endpoint->port);
      if (model::isHttp2Protocol(t.port->protocol)) {
        envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
        http.mutable_explicit_http_config()->mutable_http2_protocol_options();
        (*c.mutable_typed_extension_protocol_options())["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] = pack(http);
      }
      add(c);
    }
    add(wellKnown(kInboundPassthroughCluster, Cluster::ORIGINAL_DST));
  }
  add(wellKnown(kBlackHoleCluster, Cluster::STATIC));
  add(wellKnown(kPassthroughCluster, Cluster::ORIGINAL_DST));
  normalize(out);
  return out;
}

}  // namespace mesh::xds
