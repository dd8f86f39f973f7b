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

size_t GenerationCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mesh::xds
