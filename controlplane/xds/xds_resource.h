// What a generator produces: named Envoy resources, serialized once so every stream that
// sends them reuses the same bytes (the ADS server wraps them into Any without re-encoding),
// with a content hash for "did this change?". Immutable; shared across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

namespace mesh::xds {

namespace type_url {
inline constexpr std::string_view kCluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kListener = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRoute = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kSecret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
}  // namespace type_url

// "cds", "eds", "lds", "rds", "sds": Istio's short names, used in metrics and logs.
std::string_view shortTypeName(std::string_view typeUrl);

struct XdsResource {
  std::string name;
  std::shared_ptr<const std::string> body;  // the serialized resource message
  uint64_t hash = 0;                        // of body

  static XdsResource of(std::string name, const google::protobuf::Message& message);
};

using XdsResources = std::vector<XdsResource>;  // sorted by name, names unique

// Sorts by name and drops later duplicates (first generated wins, as Istio keeps the first).
void normalize(XdsResources& resources);

}  // namespace mesh::xds
