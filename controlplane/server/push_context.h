// PushContext: one config generation as the ADS server pushes it: the snapshot, the cache
// its generators share, and what changed since the previous one (so an endpoint-only change
// regenerates and sends EDS alone). Immutable once published; shared by every stream.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/server/config_generations.h"
#include "controlplane/server/push_memo.h"
#include "controlplane/xds/generation_cache.h"

namespace mesh::server {

struct PushContext {
  std::shared_ptr<const model::ConfigSnapshot> snapshot;
  std::shared_ptr<xds::GenerationCache> cache = std::make_shared<xds::GenerationCache>();
  std::shared_ptr<PushMemo> memo = std::make_shared<PushMemo>();
  // Type URLs whose output may have changed; empty means all (a full push).
  std::set<std::string, std::less<>> affectedTypes;
  // Which generation first carried each object's current revision (for `wait`); may be null
  // in tests that build a PushContext by hand.
  std::shared_ptr<const ConfigGenerations> generations;
  std::chrono::steady_clock::time_point triggeredAt = std::chrono::steady_clock::now();
  // Wall-clock time of this generation, for debug output (last_updated in config dumps).
  std::chrono::system_clock::time_point createdAt = std::chrono::system_clock::now();

  bool affects(std::string_view typeUrl) const { return affectedTypes.empty() || affectedTypes.contains(typeUrl); }
};

}  // namespace mesh::server
