#include "controlplane/xds/generation_cache.h"

namespace mesh::xds {

GenerationCache::Value GenerationCache::getOrBuild(const std::string& key, const std::function<XdsResources()>& build) {
  std::promise<Value> promise;
  std::shared_future<Value> pending;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) pending = it->second;
    else entries_.emplace(key, promise.get_future().share());
  }
  if (pending.valid()) return pending.get();  // another thread builds (or built) it
  Value v = std::make_shared<const XdsResources>(build());
  promise.set_value(v);
  return v;
}

void GenerationCache::carryFrom(const GenerationCache& previous, std::string_view prefix,
                                std::set<std::string, std::less<>> endpointsChanged) {
  std::lock_guard lock(previous.mu_);
  for (auto it = previous.entries_.lower_bound(prefix); it != previous.entries_.end() && it->first.starts_with(prefix);
       ++it) {
    // A build still running for the previous push is not waited for: it is simply not carried.
    if (it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
    try {
      carried_.emplace(it->first, it->second.get());
    } catch (const std::exception&) {
      // A build that failed has nothing to carry.
    }
  }
  endpointsChanged_ = std::move(endpointsChanged);
}

GenerationCache::Value GenerationCache::carried(std::string_view key) const {
  auto it = carried_.find(key);
  return it == carried_.end() ? nullptr : it->second;
}

std::shared_ptr<const void> GenerationCache::memoErased(const std::string& key,
                                                      const std::function<std::shared_ptr<const void>()>& build) {
  std::promise<std::shared_ptr<const void>> promise;
  std::shared_future<std::shared_ptr<const void>> pending;
  {
    std::lock_guard lock(mu_);
    auto it = memos_.find(key);
    if (it != memos_.end()) pending = it->second;
    else memos_.emplace(key, promise.get_future().share());
  }
  if (pending.valid()) return pending.get();
  try {
    auto v = build();
    promise.set_value(v);
    return v;
  } catch (...) {
    promise.set_exception(std::current_exception());  // waiters see the same failure
    throw;
  }
}

size_t GenerationCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mesh::xds
