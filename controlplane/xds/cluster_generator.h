// CDS for Envoy proxies (sidecars and gateways), as Istio lays it out: an outbound cluster per
// visible service port and DestinationRule subset, inbound clusters for the workload's own
// ports (sidecars), and the well-known BlackHole/Passthrough clusters.
#pragma once

#include "controlplane/xds/generator.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace mesh::xds {

class ClusterGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kCluster; }
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
  // Proxies that share outbound config and have the same inbound ports get one result.
  GeneratedResources generateShared(const ProxyView& view, const ResourceNames& names) const override;
};

// One outbound cluster (shared with the gRPC generator through options.forGrpcClient).
envoy::config::cluster::v3::Cluster buildOutboundCluster(const ProxyView& view, const model::Service& svc,
                                                         const model::ServicePort& port, std::string_view subset,
                                                         bool forGrpcClient);

}  // namespace mesh::xds
