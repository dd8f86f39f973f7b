// Request → route decisions, Envoy's semantics: virtual host by :authority (exact, *.suffix,
// prefix.*, "*"), first matching route (path, headers, query, runtime fraction), cluster choice
// (weighted, header), path rewrites, header mutations and path normalisation. Pure functions,
// called on worker threads.
#pragma once

#include <optional>
#include <string>

#include "proxy/dataplane/http_message.h"
#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

const VirtualHost* selectVirtualHost(const RouteConfig& config, std::string_view authority,
                                     HttpConnectionManagerConfig::StripPort strip);
// `random` in [0, 1e6) decides runtime_fraction matches.
const Route* selectRoute(const VirtualHost& host, const RequestHead& request, uint32_t random);

bool headersMatch(const std::vector<HeaderMatcher>& matchers, const HeaderMap& headers);
bool headerMatches(const HeaderMatcher& matcher, const HeaderMap& headers);

struct ClusterChoice {
  std::string name;                       // empty: the cluster header was absent
  const WeightedCluster* weighted = nullptr;
};
// `random` is any uniformly distributed value; weighted clusters use it modulo the total.
ClusterChoice chooseCluster(const RouteAction& action, const HeaderMap& headers, uint64_t random);

// The path to send upstream after prefix_rewrite or regex_rewrite (query kept).
std::string rewritePath(const RouteMatch& match, const std::optional<std::string>& prefixRewrite,
                        const re2::RE2* regex, const std::string& substitution,
                        const std::string& path);

void applyHeaderMutation(HeaderMap& headers, const HeaderMutation& mutation);

// Envoy's normalize_path (RFC 3986 dot segments, unreserved percent-decoding, "\" to "/") and
// merge_slashes. Returns nullopt for a path that cannot be normalised (a 400).
std::optional<std::string> normalizePath(std::string_view path, bool normalize, bool mergeSlashes);

// The Location header for a redirect route.
std::string redirectLocation(const RedirectAction& redirect, const RouteMatch& match,
                             const RequestHead& request);

}  // namespace mesh::proxy::dataplane
