#include "controlplane/xds/cluster_generator.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/grpc/grpc_generators.h"

namespace mesh::xds {
namespace {

// gRPC C-core 1.51 (Debian's) crashes on its first call through a RING_HASH cluster; fixed in
// later releases. Such clients get round robin instead.
bool ringHashCrashes(const model::Proxy& proxy) {
  return proxy.userAgent == "gRPC C-core" && proxy.userAgentVersion.starts_with("1.51");
}

}  // namespace

XdsResources GrpcClusterGenerator::generate(const ProxyView& view, const ResourceNames& names) const {
  XdsResources out;
  for (const std::string& name : names.list()) {
    auto cn = ClusterName::parse(name);
    if (!cn || cn->direction != TrafficDirection::Outbound) continue;
    const model::Service* svc = view.snapshot.service(cn->host, view.proxy.namespace_);
    const model::ServicePort* port = svc ? svc->port(cn->port) : nullptr;
    if (!port) continue;
    auto cluster = buildOutboundCluster(view, *svc, *port, cn->subset, true);
    if (cluster.lb_policy() == envoy::config::cluster::v3::Cluster::RING_HASH && ringHashCrashes(view.proxy)) {
      cluster.set_lb_policy(envoy::config::cluster::v3::Cluster::ROUND_ROBIN);
      cluster.clear_ring_hash_lb_config();
    }
    out.push_back(XdsResource::of(name, cluster));
  }
  normalize(out);
  return out;
}

}  // namespace mesh::xds
