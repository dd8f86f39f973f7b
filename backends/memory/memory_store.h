// MemoryStore: a ConfigStore held in a map, for tests and for tools that assemble config in
// memory. Thread-safe; watch callbacks run on the store's own dispatcher thread.
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "backends/common/watch_hub.h"
#include "core/store/config_store.h"

namespace mesh::backends {

struct MemoryStoreOptions {
  bool readOnly = false;  // apply()/remove() fail with Usage; the seed is all there is
};

class MemoryStore final : public core::ConfigStore {
 public:
  using Options = MemoryStoreOptions;

  // `seed` becomes the initial content (revisions 1..n, later objects with the same key win).
  explicit MemoryStore(std::vector<core::Resource> seed = {}, Options options = {});
  ~MemoryStore() override = default;

  std::string describe() const override { return "memory"; }
  core::Capabilities capabilities() const override { return {.writable = !options_.readOnly}; }
  uint64_t revision() const override;

 protected:
  Result<std::vector<core::StoredResource>> doList(const core::Filter& filter) const override;
  Result<core::StoredResource> doGet(const core::ResourceKey& key) const override;
  Result<core::Subscription> doWatch(core::WatchCallback callback,
                                     core::WatchOptions options) override;
  Result<core::StoredResource> doApply(const core::Resource& r,
                                       const core::WriteOptions& options) override;
  Result<void> doRemove(const core::ResourceKey& key, const core::WriteOptions& options) override;

 private:
  const Options options_;
  mutable std::mutex mu_;  // objects_, revision_, and the order of hub_.publish()
  std::map<core::ResourceKey, core::StoredResource> objects_;
  uint64_t revision_ = 0;
  WatchHub hub_;  // last member: destroyed first, so no callback runs while the map goes
};

}  // namespace mesh::backends
