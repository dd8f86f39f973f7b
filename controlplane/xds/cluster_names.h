// Istio's cluster naming ("outbound|8080|v1|payments-api.payments.svc.cluster.local",
// "inbound|8080||") and its parse, shared by CDS, EDS, RDS and the gRPC generator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mesh::xds {

enum class TrafficDirection { Inbound, Outbound };

struct ClusterName {
  TrafficDirection direction = TrafficDirection::Outbound;
  uint32_t port = 0;
  std::string subset;
  std::string host;

  std::string str() const;
  static std::optional<ClusterName> parse(std::string_view name);
};

inline std::string outboundCluster(uint32_t port, std::string_view subset, std::string_view host) {
  return ClusterName{TrafficDirection::Outbound, port, std::string(subset), std::string(host)}.str();
}
inline std::string inboundCluster(uint32_t port) { return ClusterName{TrafficDirection::Inbound, port, "", ""}.str(); }

// Istio's well-known clusters.
inline constexpr std::string_view kBlackHoleCluster = "BlackHoleCluster";
inline constexpr std::string_view kPassthroughCluster = "PassthroughCluster";
inline constexpr std::string_view kInboundPassthroughCluster = "InboundPassthroughClusterIpv4";

}  // namespace mesh::xds
