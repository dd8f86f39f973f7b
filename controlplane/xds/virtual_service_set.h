// VirtualServiceSet: the VirtualServices one proxy sees for one gateway ("mesh" for
// sidecars), indexed by host. Route and listener generation ask "which VirtualService claims
// this host" once per service; scanning every VirtualService each time made generation
// quadratic in mesh size (1,000 services: a million host comparisons per proxy scope).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "controlplane/model/config_snapshot.h"

namespace mesh::xds {

class VirtualServiceSet {
 public:
  // `virtualServices` in the snapshot's order, e.g. ConfigSnapshot::virtualServices(ns, "mesh").
  VirtualServiceSet(const model::ConfigSnapshot& snapshot, std::vector<const core::Resource*> virtualServices);

  const std::vector<const core::Resource*>& all() const { return virtualServices_; }
  // spec.hosts of all()[i], short names resolved against its namespace.
  const std::vector<std::string>& hostsOf(size_t i) const { return hosts_[i]; }

  // The VirtualService deciding HTTP routes for `host`: the first naming it exactly, else the
  // one with the longest wildcard host matching it (the first of equal length); nullptr if none.
  const core::Resource* claiming(std::string_view host) const;
  // Every VirtualService with a host that matches `host` or that `host` matches (TCP and TLS
  // routes; a ServiceEntry host may itself be a wildcard), in order.
  std::vector<const core::Resource*> matching(std::string_view host) const;

 private:
  std::vector<const core::Resource*> virtualServices_;
  std::vector<std::vector<std::string>> hosts_;
  std::unordered_map<std::string, std::vector<size_t>> exact_;  // host → indexes, ascending
  std::vector<std::pair<std::string, size_t>> wildcards_;       // in order
};

}  // namespace mesh::xds
