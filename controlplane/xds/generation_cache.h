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
#include <set>
#include <string>

#include "controlplane/xds/xds_resource.h"

namespace mesh::xds {

class GenerationCache {
 public:
  using Value = std::shared_ptr<const XdsResources>;

  Value getOrBuild(const std::string& key, const std::function<XdsResources()>& build);
  size_t size() const;

  // Any other value many proxies' generation shares (e.g. one service's translated routes),
  // built once per key like getOrBuild.
  template <class T>
  std::shared_ptr<const T> memo(const std::string& key, const std::function<T()>& build) {
    auto erased = memoErased(key, [&] { return std::shared_ptr<const void>(std::make_shared<const T>(build())); });
    return std::static_pointer_cast<const T>(erased);
  }

  // Endpoint-only pushes: the previous snapshot's finished results whose keys start with
  // `prefix`, and the hosts whose endpoints changed since. A generator may patch a carried
  // result (rebuild only what names a changed host) instead of building it again; only values
  // are kept, never the previous cache, so generations do not chain.
  void carryFrom(const GenerationCache& previous, std::string_view prefix,
                 std::set<std::string, std::less<>> endpointsChanged);
  Value carried(std::string_view key) const;
  bool endpointsChanged(std::string_view host) const { return endpointsChanged_.contains(host); }

 private:
  std::shared_ptr<const void> memoErased(const std::string& key, const std::function<std::shared_ptr<const void>()>& build);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_future<Value>, std::less<>> entries_;
  std::map<std::string, std::shared_future<std::shared_ptr<const void>>, std::less<>> memos_;
  std::map<std::string, Value, std::less<>> carried_;                // written before publication
  std::set<std::string, std::less<>> endpointsChanged_;             // likewise
};

}  // namespace mesh::xds
