// The destinations of a VirtualService in the order and shape Istio's virtualservice
// analyzers walk them (tcp, tls, then http routes; http mirror and mirrors separately).
// A route entry without a destination still counts: Istio sees an
// empty host there and reports it.
#pragma once

#include <string_view>
#include <vector>

#include "core/resource.h"

namespace mesh::analysis {

struct VsDestination {
  std::string_view routeRule;        // "tcp", "tls", "http", "http.mirror" or "http.mirrors"
  const core::Node* destination;     // the Destination map; nullptr when absent
  const core::Node* at;              // the node to point the reference at
  const core::Node* httpRule;        // the enclosing http/tcp/tls rule

  std::string_view host() const;
  std::string_view subset() const;
  // The port selector, or nullptr when not set.
  const core::Node* port() const;
  bool mirror() const { return routeRule.starts_with("http.mirror"); }
};

std::vector<VsDestination> vsRouteDestinations(const core::Resource& vs);
std::vector<VsDestination> vsMirrorDestinations(const core::Resource& vs);

}  // namespace mesh::analysis
