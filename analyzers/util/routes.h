// Walks the destinations a VirtualService names (http/tcp/tls routes and http mirrors), and
// exportTo visibility, for the analyzers that check them.
#pragma once

#include <functional>
#include <string_view>

#include "core/resource.h"

namespace mesh::analysis {

struct Destination {
  std::string_view host;
  std::string_view subset;
  const core::Node* port = nullptr;  // the destination's port map, or nullptr
  const core::Node* node = nullptr;  // the destination map itself, for the reference line
  bool mirror = false;
};

void forEachDestination(const core::Resource& vs, const std::function<void(const Destination&)>& visit);

// Istio exportTo: unset or "*" is visible everywhere, "." only in the resource's namespace,
// otherwise the listed namespaces.
bool visibleTo(const core::Resource& r, std::string_view ns);

}  // namespace mesh::analysis
