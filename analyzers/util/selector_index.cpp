#include "analyzers/util/selector_index.h"

#include <algorithm>

namespace mesh::analysis {

void SelectorIndex::add(std::string_view ns, const core::Resource* owner, const core::Node* selectorMap) {
  size_t pos = entries_.size();
  entries_.push_back({owner, LabelSelector::fromSet(selectorMap)});
  const auto& requirements = entries_.back().selector.requirements();
  if (requirements.empty()) {
    emptyByNamespace_[std::string(ns)].push_back(pos);
    return;
  }
  // fromSet() gives one Equals requirement per key: a pod it selects carries the first one.
  const LabelSelector::Requirement& first = requirements.front();
  byFirst_[{std::string(ns), first.key, first.values.front()}].push_back(pos);
}

std::vector<const core::Resource*> SelectorIndex::selecting(std::string_view ns, const core::Node* labels,
                                                            bool withEmpty) const {
  std::vector<size_t> hits;
  if (withEmpty)
    if (auto it = emptyByNamespace_.find(ns); it != emptyByNamespace_.end())
      hits.insert(hits.end(), it->second.begin(), it->second.end());
  auto entries = labels ? labels->entries() : std::span<const core::MapEntry>();
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string_view key = entries[i].key->text();
    // Only the last entry of a repeated key counts, as in labelsFrom().
    if (std::any_of(entries.begin() + i + 1, entries.end(), [&](const auto& e) { return e.key->text() == key; }))
      continue;
    auto it = byFirst_.find(std::tuple(ns, key, entries[i].value->text()));
    if (it == byFirst_.end()) continue;
    for (size_t pos : it->second)
      if (entries_[pos].selector.matches(labels)) hits.push_back(pos);
  }
  std::sort(hits.begin(), hits.end());
  std::vector<const core::Resource*> out;
  out.reserve(hits.size());
  for (size_t pos : hits) out.push_back(entries_[pos].owner);
  return out;
}

SelectorIndex serviceSelectors(const Snapshot& snapshot) {
  SelectorIndex index;
  for (const core::Resource* svc : snapshot.all(kinds::Service)) {
    const core::Node* spec = svc->spec();
    index.add(svc->namespace_(), svc, spec ? spec->get("selector") : nullptr);
  }
  return index;
}

}  // namespace mesh::analysis
