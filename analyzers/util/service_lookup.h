// Istio's analyzer view of "which services exist where" (pkg/config/analysis/analyzers/util/
// service_lookup.go): every ServiceEntry host and every Kubernetes Service, keyed by the
// namespace scope it is exported to, and the lookup a VirtualService or DestinationRule
// host goes through. Owned by the routing analyzers; built per run, read-only afterwards.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/snapshot.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {

// A ServiceEntry, or a Service seen as one (Istio converts Services for this lookup).
struct ServiceHostEntry {
  const core::Resource* origin = nullptr;
  std::vector<int64_t> ports;  // port numbers, in declaration order
  Labels workloadSelector;     // ServiceEntry workloadSelector.labels; empty for Services
};

// MeshConfig clusterDomain when set, else "cluster.local".
std::string clusterDomainOf(const Snapshot& snapshot);

// Istio's ConvertHostToFQDN: a name without dots or a leading '*' becomes
// name.<ns>.svc.<domain>; anything else is kept as written (even when ns is empty).
std::string istioFqdn(std::string_view ns, std::string_view host, std::string_view domain);

// Istio's GetResourceNameFromHost: "name.ns.svc.cluster.local" gives {ns, name}; anything
// else is {defaultNs, host}.
std::pair<std::string, std::string> resourceNameFromHost(std::string_view defaultNs, std::string_view host);

// A list of strings from a sequence node (exportTo, hosts, ...); empty when absent.
std::vector<std::string> stringList(const core::Node* seq);

class ServiceHostIndex {
 public:
  explicit ServiceHostIndex(const Snapshot& snapshot);

  // Istio's GetDestinationHost: the entry a host names as seen from `sourceNs` with the
  // referring resource's exportTo; nullptr when nothing matches.
  const ServiceHostEntry* lookup(std::string_view sourceNs, const std::vector<std::string>& exportTo,
                                 std::string_view host) const;

 private:
  void add(std::string_view scope, std::string_view ns, std::string_view host, const ServiceHostEntry& e);
  std::string key(std::string_view scope, std::string_view ns, std::string_view host) const;

  std::string domain_;
  std::map<std::string, ServiceHostEntry, std::less<>> byScopedHost_;  // "scope/fqdn"
};

}  // namespace mesh::analysis
