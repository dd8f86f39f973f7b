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
  for (const core::Resource* pod : all(kinds::Pod))
    if (const core::Node* labels = pod->labels())
      for (const auto& e : labels->entries())
        if (e.key->isScalar() && e.value->isScalar()) podsByLabel_[{e.key->text(), e.value->text()}].push_back(pod);
  rootNamespace_ = meshConfig_.value("rootNamespace", std::string("istio-system"));
}

std::span<const core::Resource* const> Snapshot::all(KindRef kind) const {
  auto it = byKind_.find({std::string(kind.group), std::string(kind.kind)});
  if (it == byKind_.end()) return {};
  return it->second;
}

std::span<const core::Resource* const> Snapshot::inNamespace(KindRef kind, std::string_view ns) const {
  auto list = all(kind);
  auto lo = std::lower_bound(list.begin(), list.end(), ns,
                             [](const core::Resource* r, std::string_view n) { return r->namespace_() < n; });
  auto hi = std::upper_bound(lo, list.end(), ns,
                             [](std::string_view n, const core::Resource* r) { return n < r->namespace_(); });
  return {lo, hi};
}

const core::Resource* Snapshot::find(KindRef kind, std::string_view ns, std::string_view name) const {
  auto list = inNamespace(kind, ns);
  auto it = std::lower_bound(list.begin(), list.end(), name,
                             [](const core::Resource* r, std::string_view n) { return r->name() < n; });
  return it != list.end() && (*it)->name() == name ? *it : nullptr;
}

std::span<const core::Resource* const> Snapshot::podsWithLabel(std::string_view key, std::string_view value) const {
  auto it = podsByLabel_.find(std::pair(key, value));
  if (it == podsByLabel_.end()) return {};
  return it->second;
}

}  // namespace mesh::analysis
