#include "analyzers/snapshot.h"

#include <algorithm>
#include <tuple>

namespace mesh::analysis {
namespace {

using Key = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>;

Key keyOf(const core::Resource& r) { return {r.group(), r.kind(), r.namespace_(), r.name()}; }

}  // namespace

Snapshot::Snapshot(std::vector<core::Resource> resources, nlohmann::json meshConfig, nlohmann::json meshNetworks)
    : meshConfig_(std::move(meshConfig)), meshNetworks_(std::move(meshNetworks)) {
  // Keep the last definition of each object, in input order otherwise.
  std::map<Key, size_t> last;
  for (size_t i = 0; i < resources.size(); ++i) last[keyOf(resources[i])] = i;
  for (size_t i = 0; i < resources.size(); ++i)
    if (last[keyOf(resources[i])] == i) resources_.push_back(std::move(resources[i]));
  for (const auto& r : resources_)
    byKind_[{std::string(r.group()), std::string(r.kind())}].push_back(&r);
  for (auto& [kind, list] : byKind_)
    std::stable_sort(list.begin(), list.end(), [](const core::Resource* a, const core::Resource* b) {
      return std::pair(a->namespace_(), a->name()) < std::pair(b->namespace_(), b->name());
    });
  rootNamespace_ = meshConfig_.value("rootNamespace", std::string("istio-system"));
}

std::span<const core::Resource* const> Snapshot::all(KindRef kind) const {
  auto it = byKind_.find({std::string(kind.group), std::string(kind.kind)});
  if (it == byKind_.end()) return {};
  return it->second;
}

const core::Resource* Snapshot::find(KindRef kind, std::string_view ns, std::string_view name) const {
  for (const core::Resource* r : all(kind))
    if (r->namespace_() == ns && r->name() == name) return r;
  return nullptr;
}

}  // namespace mesh::analysis
