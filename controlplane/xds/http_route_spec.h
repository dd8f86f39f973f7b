// One VirtualService's `http` list as route translation reads it, with delegation already
// resolved: a root entry `delegate: {name, namespace}` is replaced by the delegate's entries,
// each narrowed by the root's matches and inheriting what it leaves unset (Istio's
// mergeVirtualServicesIfNeeded / mergeHTTPRoute). The config tree is never copied or changed.
// Stateless; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/xds/route_match.h"

namespace mesh::xds {

struct HttpRouteSpec {
  struct Field {
    const core::Node* node = nullptr;
    std::string_view ns;  // namespace that resolves short host names inside `node`
    explicit operator bool() const { return node != nullptr; }
  };

  const core::Resource* owner = nullptr;  // the VirtualService holding `http`
  const core::Node* http = nullptr;       // the HTTPRoute entry
  const core::Resource* rootOwner = nullptr;  // for delegated entries: the root VirtualService
  const core::Node* root = nullptr;           // ... and its entry that delegated
  std::string name;
  std::vector<MatchCondition> matches;  // empty: matches every request

  // A field of the entry; for delegated entries, the root's when the delegate leaves it unset
  // and Istio inherits it (rewrite, timeout, retries, fault, mirror*, corsPolicy, headers).
  Field get(std::string_view key) const;
};

// The entries of `vs.spec.http` in order, delegates expanded. A delegate that is missing, not
// exported to the root's namespace, or whose every match conflicts with the root's, yields
// nothing (Istio ignores just that entry).
std::vector<HttpRouteSpec> expandHttpRoutes(const model::ConfigSnapshot& snapshot, const core::Resource& vs);

// The delegate VirtualServices `vs` refers to (resolved as expandHttpRoutes does).
std::vector<const core::Resource*> delegatesOf(const model::ConfigSnapshot& snapshot, const core::Resource& vs);

}  // namespace mesh::xds
