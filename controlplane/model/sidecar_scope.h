// SidecarScope: the services one proxy may reach, as Istio's Sidecar resource scopes them
// (egress hosts "ns/host", "./*", "*/*", "~/*"), or everything exported to the proxy's
// namespace when no Sidecar applies. Computed per proxy view by the generators; immutable.
#pragma once

#include <string>
#include <vector>

#include "controlplane/model/config_snapshot.h"

namespace mesh::model {

class SidecarScope {
 public:
  static SidecarScope compute(const ConfigSnapshot& snapshot, const Proxy& proxy);

  // Visible services, sorted by hostname; one per hostname (the proxy's namespace wins).
  const std::vector<const Service*>& services() const { return services_; }
  const core::Resource* sidecar() const { return sidecar_; }
  // Two proxies with equal keys see the same outbound config (clusters, routes, endpoints):
  // the generators cache per key.
  const std::string& key() const { return key_; }

 private:
  std::vector<const Service*> services_;
  const core::Resource* sidecar_ = nullptr;
  std::string key_;
};

}  // namespace mesh::model
