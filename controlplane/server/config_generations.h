// ConfigGenerations: for every config object, the config generation that first carried its
// current revision, and for recently deleted objects the generation that dropped them. Built by
// the push loop for each generation from the previous one; read by the debug API to answer
// `meshctl wait --for=distribution`. Immutable once built; shared through the PushContext.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/store/config_store.h"

namespace mesh::server {

class ConfigGenerations {
 public:
  struct Entry {
    uint64_t revision = 0;    // the store's revision of the content (or of the deletion)
    uint64_t generation = 0;  // the config generation that first carried it
    bool deleted = false;
  };

  // Deleted objects remembered, oldest forgotten first: enough for a `wait` started right
  // after a delete, bounded whatever the churn.
  static constexpr size_t kMaxDeleted = 4096;

  // The table for `generation`, whose store listing is `listed`: objects whose revision is
  // unchanged keep the generation `previous` gave them; new and changed objects get
  // `generation`; objects absent from `listed` become deletions at `generation`.
  static std::shared_ptr<const ConfigGenerations> next(const ConfigGenerations* previous,
                                                       const std::vector<core::StoredResource>& listed,
                                                       uint64_t generation);

  const Entry* find(const core::ResourceKey& key) const;
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<core::ResourceKey, Entry> entries_;
  std::deque<core::ResourceKey> deletedOrder_;  // oldest first
};

}  // namespace mesh::server
