// MultiClusterStore: one read-only ConfigStore over the primary cluster's store and the stores
// of remote clusters (Istio's multi-primary model, where istiod aggregates the registries of
// every cluster it has a remote secret for). Each member is mirrored into one cache under the
// composite's own revision counter, so a subscription sees strictly increasing revisions
// whichever store a change came from, and a cluster added or removed becomes Added or Deleted
// events for its objects. Objects of different clusters may share a key (the same Service in
// two clusters): list() returns each, the primary's first, then the remote clusters' by name.
// Thread-safe; watch callbacks run on the store's own dispatcher thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backends/common/watch_hub.h"
#include "core/store/config_store.h"

namespace mesh::backends::kube {

class MultiClusterStore final : public core::ConfigStore {
 public:
  // Mirrors `primary` before returning, so the first list() already holds its objects.
  // `primaryName` is the local cluster's ID (Istio's CLUSTER_ID, "Kubernetes" by default).
  static Result<std::unique_ptr<MultiClusterStore>> open(std::shared_ptr<core::ConfigStore> primary,
                                                         std::string primaryName);
  ~MultiClusterStore() override;
  MultiClusterStore(const MultiClusterStore&) = delete;
  MultiClusterStore& operator=(const MultiClusterStore&) = delete;

  // Adds the remote cluster `name`, or replaces its store in one step: objects only the old
  // store has are Deleted, changed ones Updated, new ones Added, equal ones cause no event.
  // Fails (and leaves what was there) when the store cannot be watched or listed. `name`
  // must not be empty or the primary's name.
  Result<void> setCluster(const std::string& name, std::shared_ptr<core::ConfigStore> store);
  // Drops a remote cluster and its objects (Deleted events); false when it was not there.
  bool removeCluster(const std::string& name);
  // The remote clusters' names, sorted.
  std::vector<std::string> clusters() const;

  // The primary's description, then "; remote clusters: a, b".
  std::string describe() const override;
  core::Capabilities capabilities() const override { return {.writable = false}; }
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
  struct Member;
  // A cached object: as stored here (the composite's revision) and the member's own revision,
  // which orders the member's events against its list when both race at attach time.
  struct Entry {
    core::StoredResource stored;
    uint64_t memberRevision = 0;
  };
  // (object key, member rank): the primary's rank is "", a remote's is its name, so equal keys
  // sort primary first, then by cluster name.
  using CacheKey = std::pair<core::ResourceKey, std::string>;

  explicit MultiClusterStore(std::string primaryName);
  // Lists the member into the cache and follows it; `replaced` (or nullptr) is the store of
  // the same cluster it takes over from, whose objects become Updated or Deleted events only
  // where they differ. On failure the cache and `replaced` are as they were.
  Result<void> attach(const std::shared_ptr<Member>& member,
                      const std::shared_ptr<Member>& replaced);
  // With mu_ held, and only while the member is attached: folds one of its changes into the
  // cache, appending the composite's event (if any) to `out`.
  void merge(const Member& member, core::EventType type, const core::StoredResource& item,
             std::vector<core::WatchEvent>& out);
  void detach(const std::shared_ptr<Member>& member);

  const std::string primaryName_;
  std::mutex membersMu_;   // one setCluster/removeCluster at a time; never taken by callbacks
  mutable std::mutex mu_;  // everything below, and the order of hub_.publish()
  std::shared_ptr<Member> primary_;
  std::map<std::string, std::shared_ptr<Member>> remotes_;
  std::map<CacheKey, Entry> objects_;
  uint64_t revision_ = 0;
  WatchHub hub_;
};

}  // namespace mesh::backends::kube
