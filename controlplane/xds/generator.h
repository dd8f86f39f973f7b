// The generator interface: one per xDS type and proxy family (STYLE.md: "one xDS generator
// per type"). Generation is pure: snapshot + proxy identity + requested names → sorted
// resources. Generators know nothing of streams; the ADS server knows nothing of Istio.
// Any thread may call generate() concurrently: generators hold no mutable state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/sidecar_scope.h"
#include "controlplane/xds/generation_cache.h"
#include "controlplane/xds/xds_resource.h"

namespace mesh::xds {

// Everything known about one proxy at one snapshot.
struct ProxyView {
  const model::ConfigSnapshot& snapshot;
  const model::Proxy& proxy;
  const model::SidecarScope& scope;
  // Shared by every proxy of this snapshot; nullptr disables memoization (tests, one-offs).
  GenerationCache* cache = nullptr;

  // Memoizes `build` under `key` when a cache is present.
  std::shared_ptr<const XdsResources> shared(const std::string& key, const std::function<XdsResources()>& build) const {
    if (!cache) return std::make_shared<const XdsResources>(build());
    return cache->getOrBuild(key, build);
  }
  // The key of config every proxy with this scope shares: "<type>|<scope key>", plus the
  // proxy's labels when a DestinationRule in its namespace selects workloads by label.
  std::string outboundKey(std::string_view type) const;
};

// The names a proxy asked for; `wildcard` means "everything you have for me" (LDS and CDS
// from Envoy). Generators may return resources outside a named set; the server filters.
struct ResourceNames {
  bool wildcard = true;
  std::vector<std::string> names;  // sorted; unused when `shared` is set
  // The same sorted list, when many callers share one copy of it (the ADS server's streams).
  std::shared_ptr<const std::vector<std::string>> shared;
  // A digest of the names from the caller (0: none). Proxies of one scope subscribe to the
  // same names; with a digest, generators may share one result between them.
  uint64_t digest = 0;
  const std::vector<std::string>& list() const { return shared ? *shared : names; }
  bool contains(std::string_view name) const;
};

// A generated result. `shared`: every proxy asking with the same scope and names gets this
// very object for this snapshot (it came from the GenerationCache), so work derived from it
// can be done once per push rather than once per proxy.
struct GeneratedResources {
  std::shared_ptr<const XdsResources> resources;
  bool shared = false;
};

class Generator {
 public:
  virtual ~Generator() = default;
  virtual std::string_view typeUrl() const = 0;
  virtual XdsResources generate(const ProxyView& view, const ResourceNames& names) const = 0;
  // generate() without copying: generators that memoize whole results return the memoized
  // object, so a thousand proxies do not each copy thousands of resources.
  virtual GeneratedResources generateShared(const ProxyView& view, const ResourceNames& names) const {
    return {std::make_shared<const XdsResources>(generate(view, names)), false};
  }
};

}  // namespace mesh::xds
