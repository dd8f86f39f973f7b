// Istio's locality load balancing (pilot/pkg/networking/core/loadbalancer): which
// localityLbSetting is in force for a cluster, and how it reshapes the ClusterLoadAssignment one
// proxy gets: failover priorities by locality (0 same region/zone/subzone, 1 same zone, 2 same
// region, 3 elsewhere, 4 outside a `failover` target), `failoverPriority` label matching, and
// `distribute` locality weights. Stateless; any thread.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "controlplane/model/locality.h"
#include "controlplane/xds/traffic_policy.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace mesh::xds {

// The localityLbSetting in force for one cluster (Istio's GetLocalityLbSetting) and whether
// the cluster has outlier detection, without which Envoy never leaves priority 0, so Istio
// assigns no failover priorities.
struct LocalityLbPolicy {
  bool active = false;                  // locality LB is on for this cluster
  const core::Node* setting = nullptr;  // the rule's or mesh's setting; nullptr: Istio's default (on, no rules)
  bool outlierDetection = false;

  bool distribute() const;
  bool failover() const;  // priorities are assigned: no distribute, and outlier detection
  std::vector<std::string> failoverPriority() const;  // the labels, when failover() applies
  // Whether the assignment differs between proxies (by locality or failoverPriority labels).
  bool dependsOnProxy() const { return active && (distribute() || failover()); }
};

// The DestinationRule's setting (from the effective policy's loadBalancer) wins whole, and
// `enabled: false` there turns locality LB off; else the mesh's (MeshConfig localityLbSetting,
// nullptr for Istio's default `enabled: true`), which `enabled: false` turns off too.
LocalityLbPolicy localityLbPolicy(const EffectivePolicy& policy, const core::Node* meshSetting = nullptr);

// Istio's rule for Cluster.common_lb_config.locality_weighted_lb_config: set with `distribute`,
// or with failover rules (failover or failoverPriority) when outlier detection is on.
bool wantsLocalityWeightedLbConfig(const LocalityLbPolicy& policy);

// The proxy as locality LB sees it: its locality and its labels augmented with it.
struct LocalityLbProxy {
  model::Locality locality;
  const model::Labels* labels = nullptr;
  // A label's value as Istio's augmented proxy labels have it ("" when absent).
  std::string_view label(std::string_view key) const;
};

// What, besides the cluster, the proxy-specific assignment depends on: the proxy's locality
// and, when failoverPriority applies, its values of those labels. For cache keys.
std::string localityLbKey(const LocalityLbPolicy& policy, const LocalityLbProxy& proxy);

// Reorders `cla` for `proxy`. `groups[i]` holds the model endpoints of cla.endpoints(i), in
// lb_endpoints order (failoverPriority compares their labels with the proxy's).
void applyLocalityLoadBalancer(envoy::config::endpoint::v3::ClusterLoadAssignment& cla,
                               std::span<const std::vector<const model::Endpoint*>> groups,
                               const LocalityLbProxy& proxy, const LocalityLbPolicy& policy);

}  // namespace mesh::xds
