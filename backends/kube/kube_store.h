// KubeStore: the ConfigStore of a live cluster. Each kind is mirrored by a Reflector
// (list+watch) into one in-memory cache, like client-go's informers, so list()/get() are local
// and watch() sees every change; apply() is server-side apply and remove() a DELETE, each
// returning once the store's own watch shows the change (read-your-writes, and the revision of
// the change is known). Kinds the server does not serve (a CRD not installed) are skipped and
// named in describe(). Thread-safe; watch callbacks run on the store's dispatcher thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/watch_hub.h"
#include "backends/kube/kube_client.h"
#include "backends/kube/kubeconfig.h"
#include "backends/kube/reflector.h"
#include "core/store/config_store.h"

namespace mesh::backends::kube {

struct KubeStoreOptions {
  // Mirrored from the start (others are added on first use); empty: every kind of core/kinds.h.
  std::vector<core::GroupKind> kinds{};
  std::string namespace_{};  // only this namespace ("" all); cluster-scoped kinds are whole
  // Only objects matching these. The store waits to see its own writes, so a write whose object
  // falls outside them fails after writeTimeout.
  std::string labelSelector{};
  std::string fieldSelector{};
  bool readOnly = false;
  bool forceConflicts = true;  // apply takes over fields another manager owns, as "replace" means
  std::string fieldManager = "meshctl";
  std::string propagationPolicy = "Background";
  std::chrono::milliseconds syncTimeout{30000};  // for a kind's first list
  // For a write to come back through the watch; for a delete, for the object to be gone (as
  // kubectl delete waits for finalizers).
  std::chrono::milliseconds writeTimeout{10000};
  ReflectorOptions reflector{};
};

class KubeStore final : public core::ConfigStore {
 public:
  using Options = KubeStoreOptions;

  enum class KindState { Syncing, Synced, NotServed, Failing };
  struct KindStatus {
    core::GroupKind kind;
    KindState state = KindState::Syncing;
    std::string detail;  // why it is not served, or the last error
  };

  // Discovers the kinds and waits (up to syncTimeout) for their first lists. Kinds that cannot
  // be listed (RBAC) are reported by describe() and retried; open fails when the server cannot
  // be reached or none of the kinds can be listed.
  static Result<std::unique_ptr<KubeStore>> open(std::shared_ptr<KubeClient> client,
                                                 Options options = {});
  // The whole way from kubectl-style settings (kubeconfig.h) to an open store; settings it
  // reads but does not honour are logged as warnings.
  static Result<std::unique_ptr<KubeStore>> connect(const KubeConfigOptions& config,
                                                    Options options = {});
  ~KubeStore() override;

  // "kubernetes https://host:6443 (context c)", then "; not served: ..." and "; failing: ...".
  std::string describe() const override;
  core::Capabilities capabilities() const override { return {.writable = !options_.readOnly}; }
  uint64_t revision() const override;
  std::vector<KindStatus> kinds() const;
  KubeClient& client() { return *client_; }

 protected:
  Result<std::vector<core::StoredResource>> doList(const core::Filter& filter) const override;
  Result<core::StoredResource> doGet(const core::ResourceKey& key) const override;
  Result<core::Subscription> doWatch(core::WatchCallback callback,
                                     core::WatchOptions options) override;
  Result<core::StoredResource> doApply(const core::Resource& r,
                                       const core::WriteOptions& options) override;
  Result<void> doRemove(const core::ResourceKey& key, const core::WriteOptions& options) override;

 private:
  struct Kind;
  struct Entry {
    core::StoredResource stored;
    std::string resourceVersion;
    std::string uid;
  };

  KubeStore(std::shared_ptr<KubeClient> client, Options options);
  // The kind's mirror, started (and waited for) on first use. NotFound when not served.
  Result<std::shared_ptr<Kind>> track(const core::GroupKind& gk) const;
  void startMirror(Kind& kind);  // its Reflector, feeding the cache
  std::optional<Error> outsideNamespace(const ApiResource& api, const core::ResourceKey& key) const;
  Result<void> waitSynced(const std::shared_ptr<Kind>& kind) const;
  void onList(Kind& kind, ObjectList&& list);
  void onEvent(Kind& kind, WatchEvent&& event);
  void onError(Kind& kind, const Error& error);
  // With mu_ held: puts an object in the cache; the event to publish, if its meaning changed.
  std::optional<core::WatchEvent> upsert(Kind& kind, core::Resource resource, std::string rv,
                                         std::string uid);
  void repackIfFragmented(Kind& kind);  // with mu_ held
  // Waits (up to writeTimeout) until `pred` holds, checked with mu_ held after each change.
  bool waitFor(std::unique_lock<std::mutex>& lock, const std::function<bool()>& pred) const;
  Error unconfirmed(const core::ResourceKey& key) const;

  const std::shared_ptr<KubeClient> client_;
  const Options options_;
  mutable std::mutex trackMu_;  // one track() at a time: it makes requests, so not under mu_
  mutable std::mutex mu_;       // everything below, and the order of hub_.publish()
  mutable std::condition_variable changed_;
  mutable std::map<core::GroupKind, std::shared_ptr<Kind>> kinds_;
  std::map<core::ResourceKey, Entry> objects_;
  uint64_t revision_ = 0;
  WatchHub hub_;
};

}  // namespace mesh::backends::kube
