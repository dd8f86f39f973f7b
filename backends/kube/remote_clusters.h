// RemoteClusters: multi-primary discovery, as istiod's secret controller does it. Watches the
// Secrets labelled istio/multiCluster=true in meshd's namespace (`meshctl create-remote-secret`
// prints them): each data key names a remote cluster and holds a kubeconfig for it. Every
// cluster is connected on a thread of its own (a read-only KubeStore of the registry's kinds)
// and handed to a MultiClusterStore; one that fails is logged and retried with backoff, and a
// Secret or key that goes drops its cluster. A Secret must not make meshd run a program or read
// its own files, so kubeconfigs with exec plugins or file references are refused. Owns its
// threads; the public methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backends/kube/kube_store.h"
#include "backends/kube/multi_cluster_store.h"

namespace mesh::backends::kube {

inline constexpr std::string_view kMultiClusterLabel = "istio/multiCluster";

struct RemoteClustersOptions {
  std::string namespace_ = "istio-system";       // where the remote secrets live (meshd's own)
  std::string localClusterId = "Kubernetes";     // a key naming this cluster is skipped
  std::vector<core::GroupKind> kinds{};          // mirrored from each remote cluster
  std::chrono::milliseconds syncTimeout{10000};  // for a remote cluster's first lists
  std::chrono::milliseconds retryBase{1000};     // backoff of a failing cluster, doubling
  std::chrono::milliseconds retryMax{60000};
  RestClientOptions rest{};  // for the remote clusters' clients
};

// The RestConfig of one remote secret's kubeconfig (its current-context), or why it is refused:
// exec credential plugins, token files, and certificate, key or CA files on meshd's disk.
// `origin` names the secret and key in messages. Pure; any thread.
Result<RestConfig> remoteRestConfig(const std::string& origin, std::string_view kubeconfig);

class RemoteClusters {
 public:
  using Options = RemoteClustersOptions;

  enum class State { Connecting, Connected, Failing, Refused };
  struct ClusterStatus {
    std::string name;
    std::string secret;  // "istio-system/istio-remote-secret-east"
    State state = State::Connecting;
    std::string detail;  // the store's description, or the last error
  };

  // Starts at once: the Secrets are read through `local` (meshd's own cluster) on a background
  // thread, retried until they can be. `target` must outlive this object.
  RemoteClusters(std::shared_ptr<KubeClient> local, MultiClusterStore& target, Options options);
  ~RemoteClusters();  // stops and joins every thread; connected clusters stay in `target`
  RemoteClusters(const RemoteClusters&) = delete;
  RemoteClusters& operator=(const RemoteClusters&) = delete;

  std::vector<ClusterStatus> status() const;  // by name

 private:
  struct Cluster;
  struct Wanted {
    std::string secret;
    std::string kubeconfig;
  };

  void run();
  // Brings the running clusters in line with the Secrets.
  void reconcile(KubeStore& secrets);
  std::map<std::string, Wanted> wantedClusters(KubeStore& secrets);
  // `replacing`: the target still holds this cluster's previous store, which the new one
  // replaces in one step (no gap in endpoints when a token rotates), or removes on failure.
  void startCluster(const std::string& name, Wanted wanted, bool replacing);
  // Stops the cluster's thread; with `drop`, takes its store out of the target. Returns
  // whether the target still holds a store of this cluster.
  bool retire(const std::shared_ptr<Cluster>& cluster, bool drop);
  void connect(const std::shared_ptr<Cluster>& cluster);
  // Waits up to `d` or until stop; true when stopping.
  bool sleepFor(std::chrono::milliseconds d);

  const std::shared_ptr<KubeClient> local_;
  MultiClusterStore& target_;
  const Options options_;

  mutable std::mutex mu_;  // everything below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool dirty_ = false;  // the Secrets changed since the last reconcile
  std::map<std::string, std::shared_ptr<Cluster>> clusters_;
  std::vector<std::shared_ptr<Cluster>> retired_;  // threads still finishing an attempt
  std::set<std::string> warned_;  // skipped keys already logged, so a relist does not repeat them
  std::thread thread_;
};

}  // namespace mesh::backends::kube
