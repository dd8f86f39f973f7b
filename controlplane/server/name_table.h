// NameTable: every xDS resource name meshd has seen, stored once and referred to by a 32-bit id.
// A thousand proxies subscribed to the same six thousand clusters then hold ids, not copies
// of the names (the difference between ~200 MB and ~1 GB of per-stream state). Names are never
// dropped: the table grows with distinct names ever served, tens of bytes each. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mesh::server {

class NameTable {
 public:
  uint32_t id(std::string_view name);
  // Valid for the table's lifetime.
  const std::string& name(uint32_t id) const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string_view, uint32_t> ids_;  // views into names_
  std::deque<std::string> names_;                       // stable addresses
};

}  // namespace mesh::server
