// The service registry: every Service and its Endpoints, built from Kubernetes Services with
// Pods or EndpointSlices, and from ServiceEntries with WorkloadEntries or inline endpoints
// (local mode). Built once per config snapshot by the snapshot builder; read-only afterwards,
// so any thread may read it.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/service.h"

namespace mesh::model {

class ServiceRegistry {
 public:
  // `domain` is the trust/cluster domain for Kubernetes FQDNs ("cluster.local").
  static ServiceRegistry build(std::span<const core::Resource> resources, std::string_view domain = "cluster.local");

  // Sorted by hostname, then namespace.
  const std::vector<std::unique_ptr<Service>>& services() const { return services_; }
  // Every service with this hostname (a host may be declared in several namespaces).
  std::vector<const Service*> byHost(std::string_view hostname) const;
  // The one a proxy in `ns` uses: its own namespace's declaration first, then any visible one.
  const Service* lookup(std::string_view hostname, std::string_view ns) const;
  // Endpoints of one service port, in a stable order.
  std::span<const Endpoint> endpoints(const Service& svc, uint32_t port) const;
  // Hostnames whose endpoints differ from `before`'s (by hostname and namespace), including
  // services only one of the two has: what an endpoint-only push must regenerate.
  std::set<std::string, std::less<>> hostsWithChangedEndpoints(const ServiceRegistry& before) const;

 private:
  std::vector<std::unique_ptr<Service>> services_;
  std::multimap<std::string, const Service*, std::less<>> byHost_;
  std::map<std::pair<const Service*, uint32_t>, std::vector<Endpoint>> endpoints_;

  friend class RegistryBuilder;
};

}  // namespace mesh::model
