#include "controlplane/xds/virtual_service_set.h"

#include <algorithm>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/route_action.h"

namespace mesh::xds {

VirtualServiceSet::VirtualServiceSet(const model::ConfigSnapshot& snapshot,
                                     std::vector<const core::Resource*> virtualServices)
    : virtualServices_(std::move(virtualServices)) {
  hosts_.reserve(virtualServices_.size());
  for (size_t i = 0; i < virtualServices_.size(); ++i) {
    const core::Resource& vs = *virtualServices_[i];
    std::vector<std::string>& hosts = hosts_.emplace_back();
    for (const std::string& h : model::stringList(vs.spec() ? vs.spec()->get("hosts") : nullptr))
      hosts.push_back(resolveHost(h, vs.namespace_(), snapshot.options().domain));
    for (const std::string& h : hosts) {
      if (h.starts_with('*')) {
        wildcards_.emplace_back(h, i);
      } else {
        std::vector<size_t>& at = exact_[h];
        if (at.empty() || at.back() != i) at.push_back(i);
      }
    }
  }
}

const core::Resource* VirtualServiceSet::claiming(std::string_view host) const {
  if (auto it = exact_.find(std::string(host)); it != exact_.end()) return virtualServices_[it->second.front()];
  const core::Resource* best = nullptr;
  size_t bestLen = 0;
  for (const auto& [pattern, i] : wildcards_)
    if (model::hostMatches(pattern, host) && (!best || pattern.size() > bestLen)) {
      best = virtualServices_[i];
      bestLen = pattern.size();
    }
  return best;
}

std::vector<const core::Resource*> VirtualServiceSet::matching(std::string_view host) const {
  std::vector<size_t> found;
  if (host.starts_with('*')) {
    // A wildcard service host matches hosts of any shape: compare with every one.
    for (size_t i = 0; i < hosts_.size(); ++i)
      for (const std::string& h : hosts_[i])
        if (model::hostMatches(h, host) || model::hostMatches(host, h)) {
          found.push_back(i);
          break;
        }
  } else {
    if (auto it = exact_.find(std::string(host)); it != exact_.end()) found = it->second;
    for (const auto& [pattern, i] : wildcards_)
      if (model::hostMatches(pattern, host)) found.push_back(i);
    std::ranges::sort(found);
    found.erase(std::unique(found.begin(), found.end()), found.end());
  }
  std::vector<const core::Resource*> out;
  out.reserve(found.size());
  for (size_t i : found) out.push_back(virtualServices_[i]);
  return out;
}

}  // namespace mesh::xds
