// Name sets a simulated Envoy derives from its config (the EDS clusters named by CDS, the
// route configs named by LDS), interned so that a thousand proxies holding the same set
// share one copy: the client's memory stays flat however many proxies it simulates.
// Thread-safe; shared by every proxy of the process.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace mesh::bench {

// Immutable once interned.
struct NameSet {
  std::vector<std::string> names;  // sorted, unique
  std::string encoded;             // the names as repeated field 3 (resource_names[_subscribe])
};
using NameSetPtr = std::shared_ptr<const NameSet>;

// What one resource type's resources name of another type: cluster → EDS service name,
// listener → RDS route config names. Delta streams keep the per-resource map to apply
// updates and removals; state-of-the-world streams only need the union.
struct Dependencies {
  std::map<std::string, std::vector<std::string>, std::less<>> byResource;  // delta only
  NameSetPtr names;                                                        // the union
};
using DependenciesPtr = std::shared_ptr<const Dependencies>;

class NameSets {
 public:
  NameSetPtr intern(std::vector<std::string> names);  // sorts and de-duplicates
  DependenciesPtr empty();

  // Delta updates: the result of applying the update with `fingerprint` to `from`, if some
  // proxy already computed it (proxies in one namespace receive identical updates).
  DependenciesPtr transition(const DependenciesPtr& from, uint64_t fingerprint);
  void remember(const DependenciesPtr& from, uint64_t fingerprint, DependenciesPtr to);

 private:
  std::mutex mu_;
  std::unordered_multimap<uint64_t, std::weak_ptr<const NameSet>> sets_;
  DependenciesPtr empty_;
  // (from, fingerprint) → to; holds `from` alive, so it is cleared when it grows.
  std::map<std::pair<const Dependencies*, uint64_t>, std::pair<DependenciesPtr, DependenciesPtr>> transitions_;
};

}  // namespace mesh::bench
