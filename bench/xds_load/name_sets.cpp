#include "bench/xds_load/name_sets.h"

#include <algorithm>
#include <functional>

#include "bench/xds_load/wire.h"

namespace mesh::bench {

NameSetPtr NameSets::intern(std::vector<std::string> names) {
  std::ranges::sort(names);
  names.erase(std::unique(names.begin(), names.end()), names.end());
  uint64_t h = names.size();
  for (const std::string& n : names) h = h * 1099511628211ULL ^ std::hash<std::string>{}(n);
  std::lock_guard lock(mu_);
  auto [lo, hi] = sets_.equal_range(h);
  for (auto it = lo; it != hi;) {
    auto held = it->second.lock();
    if (!held) {
      it = sets_.erase(it);
      continue;
    }
    if (held->names == names) return held;
    ++it;
  }
  auto set = std::make_shared<NameSet>();
  for (const std::string& n : names) putBytesField(set->encoded, 3, n);
  set->names = std::move(names);
  sets_.emplace(h, set);
  return set;
}

DependenciesPtr NameSets::empty() {
  NameSetPtr none = intern({});
  std::lock_guard lock(mu_);
  if (!empty_) {
    auto d = std::make_shared<Dependencies>();
    d->names = std::move(none);
    empty_ = std::move(d);
  }
  return empty_;
}

DependenciesPtr NameSets::transition(const DependenciesPtr& from, uint64_t fingerprint) {
  std::lock_guard lock(mu_);
  auto it = transitions_.find({from.get(), fingerprint});
  return it == transitions_.end() ? nullptr : it->second.second;
}

void NameSets::remember(const DependenciesPtr& from, uint64_t fingerprint, DependenciesPtr to) {
  std::lock_guard lock(mu_);
  if (transitions_.size() >= 4096) transitions_.clear();
  transitions_[{from.get(), fingerprint}] = {from, std::move(to)};
}

}  // namespace mesh::bench
