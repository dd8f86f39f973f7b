#include "backends/memory/memory_store.h"

#include "core/yaml/convert.h"

namespace mesh::backends {

using core::EventType;
using core::ResourceKey;
using core::StoredResource;

MemoryStore::MemoryStore(std::vector<core::Resource> seed, Options options) : options_(options) {
  for (auto& r : seed) {
    ResourceKey key = ResourceKey::of(r);
    objects_.insert_or_assign(std::move(key), StoredResource{std::move(r), ++revision_});
  }
}

uint64_t MemoryStore::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

Result<std::vector<StoredResource>> MemoryStore::doList(const core::Filter& filter) const {
  std::lock_guard lock(mu_);
  std::vector<StoredResource> out;
  for (const auto& [key, stored] : objects_)
    if (filter.matches(key)) out.push_back(stored);
  return out;
}

Result<StoredResource> MemoryStore::doGet(const ResourceKey& key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return core::failWith(notFound(key));
  return it->second;
}

Result<core::Subscription> MemoryStore::doWatch(core::WatchCallback callback,
                                                core::WatchOptions options) {
  std::lock_guard lock(mu_);
  std::vector<core::WatchEvent> initial;
  if (options.replay)
    for (const auto& [key, stored] : objects_)
      if (options.filter.matches(key)) initial.push_back({EventType::Added, stored});
  return hub_.subscribe(std::move(callback), std::move(options.filter), std::move(initial));
}

Result<StoredResource> MemoryStore::doApply(const core::Resource& r,
                                            const core::WriteOptions& options) {
  ResourceKey key = ResourceKey::of(r);
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (auto bad = checkRevision(key, options, it == objects_.end() ? 0 : it->second.revision))
    return core::failWith(*bad);
  if (it != objects_.end() && core::sameValue(it->second.resource.root(), r.root()))
    return it->second;
  StoredResource stored{r, ++revision_};
  EventType type = it == objects_.end() ? EventType::Added : EventType::Updated;
  objects_.insert_or_assign(std::move(key), stored);
  hub_.publish({type, stored});
  return stored;
}

Result<void> MemoryStore::doRemove(const ResourceKey& key, const core::WriteOptions& options) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return core::failWith(notFound(key));
  if (auto bad = checkRevision(key, options, it->second.revision)) return core::failWith(*bad);
  StoredResource last{std::move(it->second.resource), ++revision_};
  objects_.erase(it);
  hub_.publish({EventType::Deleted, std::move(last)});
  return {};
}

}  // namespace mesh::backends
