// GenerationCache: memoizes generated resources that many proxies share (outbound clusters,
// routes and listeners for one Sidecar scope; endpoints for one cluster as seen from one
// namespace), for one snapshot. A new snapshot gets a new cache, so nothing is ever stale.
// Thread-safe: concurrent callers of one key wait for a single build.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "controlplane/xds/xds_resource.h"

namespace mesh::xds {

class GenerationCache {
 public:
  using Value = std::shared_ptr<const XdsResources>;

  Value getOrBuild(const std::string& key, const std::function<XdsResources()>& build);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_future<Value>, std::less<>> entries_;
};

}  // namespace mesh::xds
