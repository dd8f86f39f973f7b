#include "controlplane/server/name_table.h"

#include <mutex>

namespace mesh::server {

uint32_t NameTable::id(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

const std::string& NameTable::name(uint32_t id) const {
  std::shared_lock lock(mu_);
  return names_.at(id);
}

}  // namespace mesh::server
