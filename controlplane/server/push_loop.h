// PushLoop: config store → debounced snapshots → the ADS server. Collects change events until
// the config has been quiet for `debounce` (or `maxDelay` has passed since the first), then
// builds one ConfigSnapshot and publishes it, naming the xDS types the changes can alter: a
// change touching only endpoints (Pods, EndpointSlices, WorkloadEntries) is an EDS-only push,
// a VirtualService change regenerates LDS and RDS only. Owns one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "controlplane/server/ads_server.h"
#include "core/store/config_store.h"

namespace mesh::server {

struct PushLoopOptions {
  std::chrono::milliseconds debounce{100};
  std::chrono::milliseconds maxDelay{1000};
  model::SnapshotOptions snapshot;
};

struct PushLoopHooks {
  // Why a push started: "config" or "endpoint" (pilot_push_triggers' type label).
  std::function<void(std::string_view reason)> triggered;
  // Config left out of a snapshot because it is invalid, once per new finding.
  std::function<void(const core::Diagnostic&)> skipped;
  // Seconds the change waited in the debounce queue.
  std::function<void(double seconds)> queued;
  // Input from outside the store (meshd's JwksResolver): the fetched JWT keys a new snapshot
  // carries, and each snapshot once built, so the resolver learns which key sets config names.
  // snapshotBuilt returns true when jwtKeys() changed meanwhile (keys of a new source fetched):
  // the snapshot is then built once more, with them.
  std::function<std::shared_ptr<const model::JwtKeys>()> jwtKeys;
  std::function<bool(const model::ConfigSnapshot&)> snapshotBuilt;
  // The MeshConfig in force (meshd's MeshConfigSource); unset or null: options.snapshot as given.
  std::function<std::shared_ptr<const model::MeshConfig>()> meshConfig;
};

class PushLoop {
 public:
  PushLoop(core::ConfigStore& store, AdsServer& server, PushLoopOptions options, PushLoopHooks hooks);
  ~PushLoop();

  // Publishes the first snapshot, then follows the store. Fails when the store cannot be read.
  Result<void> start();
  void stop();
  bool ready() const;
  uint64_t version() const;
  // A change outside the store (new JWT keys): debounced like config changes, then a push
  // regenerating `types` (empty: all). Any thread.
  void requestPush(const std::set<std::string, std::less<>>& types);

 private:
  void run();
  // Records a pending change under mu_; empty `types` means every type.
  void noteChangeLocked(std::set<std::string, std::less<>> types, bool workloadEntry);
  // `affected`: the xDS types the changes may alter; empty for all.
  void publish(std::set<std::string, std::less<>> affected, std::chrono::steady_clock::time_point since,
               bool workloadEntryChanged);

  core::ConfigStore& store_;
  AdsServer& server_;
  PushLoopOptions options_;
  PushLoopHooks hooks_;
  core::Subscription subscription_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool pending_ = false;
  std::set<std::string, std::less<>> affected_;  // xDS types the pending changes may alter
  bool allTypes_ = false;                         // a pending change may alter every type
  bool workloadEntryChanged_ = false;             // may alter DNS ServiceEntries' CDS clusters
  std::chrono::steady_clock::time_point firstEvent_{}, lastEvent_{};
  uint64_t version_ = 0;
  std::shared_ptr<const ConfigGenerations> generations_;  // of the last published snapshot
  std::set<std::string> reportedSkips_;
  std::thread thread_;
};

}  // namespace mesh::server
