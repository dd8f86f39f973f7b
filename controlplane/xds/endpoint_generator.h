// EDS: a ClusterLoadAssignment per requested "outbound|PORT|SUBSET|HOST" cluster, from the
// service registry's endpoints filtered by the DestinationRule subset's labels.
#pragma once

#include "controlplane/xds/generator.h"

namespace mesh::xds {

class EndpointGenerator final : public Generator {
 public:
  // gRPC clients get only healthy endpoints; Envoy gets all, marked.
  explicit EndpointGenerator(bool forGrpcClient = false) : forGrpcClient_(forGrpcClient) {}
  std::string_view typeUrl() const override { return type_url::kEndpoint; }
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
  GeneratedResources generateShared(const ProxyView& view, const ResourceNames& names) const override;
  // Keys of whole per-subscription results in the GenerationCache (carried over by
  // endpoint-only pushes).
  static constexpr std::string_view kSetKeyPrefix = "eds-set|";

 private:
  XdsResources generateUncached(const ProxyView& view, const ResourceNames& names) const;
  bool forGrpcClient_;
};

}  // namespace mesh::xds
