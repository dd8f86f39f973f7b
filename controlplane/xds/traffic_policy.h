// DestinationRule traffic policy → Envoy Cluster settings, as Istio's cluster builder applies
// them: the effective policy for (rule, port, subset) (Istio's MergeTrafficPolicy: a subset's
// policy replaces the top level's per section, port-level settings replace their level's), then
// load balancer, connection pool (circuit breakers, HTTP options), outlier detection and TLS.
// Stateless; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/proxy.h"
#include "core/resource.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace mesh::xds {

// Each section of the effective policy; nullptr when no level sets it.
struct EffectivePolicy {
  const core::Node* loadBalancer = nullptr;
  const core::Node* connectionPool = nullptr;
  const core::Node* outlierDetection = nullptr;
  const core::Node* tls = nullptr;
};

EffectivePolicy effectivePolicy(const core::Resource* destinationRule, uint32_t port, std::string_view subset);

// The subset's labels (spec.subsets[name=subset].labels); nullptr when absent.
const core::Node* subsetLabels(const core::Resource* destinationRule, std::string_view subset);

struct ClusterPolicyOptions {
  std::string_view host;   // for SNI defaults
  uint32_t port = 0;
  std::string_view subset;
  bool http2 = false;      // the port's protocol speaks HTTP/2 upstream
  bool forGrpcClient = false;  // proxyless gRPC: only what gRPC's xDS client accepts
  // Istio's auto mTLS when the DestinationRule sets no TLS: mesh-internal services.
  bool autoMtls = false;
  // For mesh mTLS: the SPIFFE identities the server may present (the service's accounts).
  std::vector<std::string> subjectAltNames;
  // MeshConfig localityLbSetting, the default when the DestinationRule has none (nullptr: unset).
  const core::Node* meshLocalityLbSetting = nullptr;
};

// Applies the policy onto a cluster whose name and discovery type are already set.
void applyTrafficPolicy(envoy::config::cluster::v3::Cluster& cluster, const EffectivePolicy& policy,
                        const ClusterPolicyOptions& options);

}  // namespace mesh::xds
