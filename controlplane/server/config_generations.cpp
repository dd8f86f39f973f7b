#include "controlplane/server/config_generations.h"

namespace mesh::server {

std::shared_ptr<const ConfigGenerations> ConfigGenerations::next(const ConfigGenerations* previous,
                                                                 const std::vector<core::StoredResource>& listed,
                                                                 uint64_t generation) {
  auto out = std::make_shared<ConfigGenerations>();
  out->entries_.reserve(listed.size() + (previous ? previous->deletedOrder_.size() : 0));
  for (const core::StoredResource& item : listed) {
    core::ResourceKey key = core::ResourceKey::of(item.resource);
    Entry entry{item.revision, generation, false};
    if (previous)
      if (const Entry* before = previous->find(key); before && !before->deleted && before->revision == item.revision)
        entry.generation = before->generation;
    out->entries_.emplace(std::move(key), entry);
  }
  if (!previous) return out;
  // Earlier deletions stay remembered unless the object came back.
  for (const core::ResourceKey& key : previous->deletedOrder_)
    if (!out->entries_.contains(key)) {
      out->entries_.emplace(key, *previous->find(key));
      out->deletedOrder_.push_back(key);
    }
  for (const auto& [key, entry] : previous->entries_)
    if (!entry.deleted && !out->entries_.contains(key)) {
      // The deletion's own revision is not in the listing; the generation is what `wait` needs.
      out->entries_.emplace(key, Entry{entry.revision, generation, true});
      out->deletedOrder_.push_back(key);
    }
  while (out->deletedOrder_.size() > kMaxDeleted) {
    out->entries_.erase(out->deletedOrder_.front());
    out->deletedOrder_.pop_front();
  }
  return out;
}

const ConfigGenerations::Entry* ConfigGenerations::find(const core::ResourceKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace mesh::server
