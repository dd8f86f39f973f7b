// Where meshd's MeshConfig comes from, as istiod reads it: the --meshConfig file (re-read when
// its content changes: polled, so a Kubernetes ConfigMap volume's symlink swap is seen too), else
// the `mesh` key of the `istio` ConfigMap in the root namespace of a config store (watched).
// Holds the last good MeshConfig: a bad new one is reported and ignored. Owns a thread (file)
// or a store subscription; current() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/model/mesh_config.h"
#include "core/result.h"
#include "core/store/config_store.h"

namespace mesh::server {

struct MeshConfigSourceHooks {
  std::function<void()> changed;                 // a new good MeshConfig is current
  std::function<void(const Error&)> rejected;    // a new MeshConfig is bad; the last good one stays
};

class MeshConfigSource {
 public:
  // Fails (InvalidInput, NotFound, Io) when the file's first read is not a good MeshConfig.
  static Result<std::unique_ptr<MeshConfigSource>> fromFile(std::string path, MeshConfigSourceHooks hooks,
                                                            std::chrono::milliseconds poll = std::chrono::seconds(1));
  // `key` names the ConfigMap; absent means Istio's defaults. Fails when it is there but bad.
  static Result<std::unique_ptr<MeshConfigSource>> fromConfigMap(core::ConfigStore& store, core::ResourceKey key,
                                                                 MeshConfigSourceHooks hooks);
  ~MeshConfigSource();
  MeshConfigSource(const MeshConfigSource&) = delete;
  MeshConfigSource& operator=(const MeshConfigSource&) = delete;

  std::shared_ptr<const model::MeshConfig> current() const;
  // "file /etc/istio/config/mesh" or "ConfigMap istio-system/istio".
  const std::string& describe() const { return description_; }

 private:
  MeshConfigSource(std::string description, MeshConfigSourceHooks hooks) 
      : description_(std::move(description)), hooks_(std::move(hooks)) {}
  // A new reading: installs it when good, reports it when bad (once per distinct failure).
  void offer(Result<std::shared_ptr<const model::MeshConfig>> next);
  void pollFile(std::string path, std::string lastContent, std::chrono::milliseconds poll);

  const std::string description_;
  const MeshConfigSourceHooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  std::shared_ptr<const model::MeshConfig> current_;
  std::string lastRejection_;
  core::Subscription subscription_;
  std::thread poller_;
};

}  // namespace mesh::server
