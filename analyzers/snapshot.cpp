#include "analyzers/snapshot.h"

#include <algorithm>
#include <utility>

namespace mesh::analysis {
namespace {

bool sameObject(const core::Resource* a, const core::Resource* b) {
  return a->namespace_() == b->namespace_() && a->name() == b->name();
}

}  // namespace

Snapshot::Snapshot(std::vector<core::Resource> resources, nlohmann::json meshConfig, nlohmann::json meshNetworks)
    : resources_(std::move(resources)), meshConfig_(std::move(meshConfig)), meshNetworks_(std::move(meshNetworks)) {
  for (const auto& r : resources_) byKind_[{r.group(), r.kind()}].push_back(&r);
  for (auto& [kind, list] : byKind_) {
    std::stable_sort(list.begin(), list.end(), [](const core::Resource* a, const core::Resource* b) {
      return std::pair(a->namespace_(), a->name()) < std::pair(b->namespace_(), b->name());
    });
    // Definitions of one object are now adjacent, in input order: the last one wins.
    size_t kept = 0;
    for (size_t i = 0; i < list.size(); ++i)
      if (i + 1 == list.size() || !sameObject(list[i], list[i + 1])) list[kept++] = list[i];
    list.resize(kept);
  }
  // Every entry is indexed under its text, as labelsFrom() reads labels, so each pod a selector
  // can match is among the candidates (a repeated key only adds candidates).
  for (const core::Resource* pod : all(kinds::Pod))
    if (const core::Node* labels = pod->labels())
      for (const auto& e : labels->entries()) {
        auto& list = podsByLabel_[{e.key->text(), e.value->text()}];
        if (list.empty() || list.back() != pod) list.push_back(pod);
      }
  rootNamespace_ = meshConfig_.value("rootNamespace", std::string("istio-system"));
}

std::span<const core::Resource* const> Snapshot::all(KindRef kind) const {
  auto it = byKind_.find({kind.group, kind.kind});
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
