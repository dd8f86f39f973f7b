// The proxyless gRPC generator family (node metadata GENERATOR=grpc), as Istio's grpcgen:
// API listeners named by the dial target wrapping an HTTP connection manager with RDS over ADS,
// a route configuration per target, EDS clusters only, healthy endpoints only. Shapes follow
// what gRPC's xDS clients accept (../shared/notes/grpc-xds-clients.md).
#pragma once

#include "controlplane/xds/generator.h"

namespace mesh::xds {

class GrpcListenerGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kListener; }
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
};

class GrpcRouteGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kRoute; }
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
};

class GrpcClusterGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kCluster; }
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
};

}  // namespace mesh::xds
