// VirtualService HTTPMatchRequest → Envoy RouteMatch, as Istio's TranslateRouteMatch does it,
// plus the two things Istio decides per match before translating: whether the match applies to
// this proxy at all (port, gateways, sourceLabels, sourceNamespace) and how a delegate's match
// merges under its root's (pilot/pkg/model/virtualservice.go). Stateless; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/proxy.h"
#include "controlplane/xds/route_options.h"
#include "core/yaml/node.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace mesh::xds {

// One HTTPMatchRequest, read once; string matches stay as their config nodes
// ({exact|prefix|regex: ...}). A delegate merge produces a new one without touching the tree.
struct MatchCondition {
  using StringMatches = std::map<std::string, const core::Node*, std::less<>>;

  std::string name;
  const core::Node* uri = nullptr;
  const core::Node* scheme = nullptr;
  const core::Node* method = nullptr;
  const core::Node* authority = nullptr;
  StringMatches headers;
  StringMatches withoutHeaders;
  StringMatches queryParams;
  uint32_t port = 0;
  bool ignoreUriCase = false;
  const core::Node* sourceLabels = nullptr;
  std::string sourceNamespace;
  std::vector<std::string> gateways;  // "mesh" or "ns/name" (short names resolved against the VS)
  std::string statPrefix;

  static MatchCondition parse(const core::Node* match, std::string_view vsNamespace);
};

// Istio's mergeHTTPMatchRequest: the delegate's condition narrowed by the root's. nullopt when
// they conflict (hasConflict: e.g. leaf prefix "/b" under root prefix "/a", any regex).
std::optional<MatchCondition> mergeMatch(const MatchCondition& root, const MatchCondition& leaf);

// Istio's port check plus sourceMatchHTTP: a match naming gateways applies only on those
// gateways; otherwise its sourceLabels must select the proxy and sourceNamespace name its
// namespace. `listenPort` 0 skips the port check.
bool matchApplies(const MatchCondition& match, const model::Proxy& proxy, std::string_view gateway,
                  uint32_t listenPort);

// The Envoy RouteMatch (prefix "/" for nullptr). Headers sorted by name, then :method,
// :authority, :scheme; query parameters sorted by name. The gRPC flavor writes header values
// into the old exact_match/prefix_match/safe_regex_match fields its 1.51 client requires.
envoy::config::route::v3::RouteMatch translateMatch(const MatchCondition* match, RouteFlavor flavor);

// {exact|prefix|regex} → StringMatcher; nullopt for anything else.
std::optional<envoy::type::matcher::v3::StringMatcher> stringMatcher(const core::Node* stringMatch);

// Istio's IsCatchAllRoute: prefix "/" (or regex ".*") with no header, query or metadata match.
bool isCatchAllRoute(const envoy::config::route::v3::Route& route);

}  // namespace mesh::xds
