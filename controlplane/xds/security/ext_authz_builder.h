// CUSTOM AuthorizationPolicies → external authorization, after Istio's authz builder: an RBAC
// filter with the CUSTOM rules as shadow rules only tags matching requests in dynamic metadata
// (policy names start "istio-ext-authz-"), and the ext_authz filter after it runs only for
// tagged requests. Pure; any thread.
//
// meshd has no MeshConfig extensionProviders yet, so `provider.name` names the authorization
// service itself: "<host>" or "<host>:<port>", a Service or ServiceEntry host of the registry
// (port: the one given, else the service's first). An HTTP/1.1 port gets Envoy's HTTP ext_authz
// client, any other a gRPC one, to Istio's cluster "outbound|<port>||<host>". A provider that
// does not resolve, or several different providers on one workload, deny every request, as
// Istio does for a bad CUSTOM action.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "controlplane/xds/security/rbac_builder.h"

namespace mesh::xds::security {

struct ExtAuthzService {
  std::string host;
  uint32_t port = 0;
  std::string cluster;  // "outbound|<port>||<host>"
  bool http = false;    // HTTP service (HTTP/1.1 port) rather than gRPC
};

std::optional<ExtAuthzService> resolveExtAuthzProvider(const ProxyView& view, std::string_view name);

std::vector<HttpFilter> customHttpFilters(const ProxyView& view, std::span<const core::Resource* const> policies);
// Envoy's network ext_authz needs its proto, which meshd does not link yet: CUSTOM policies are
// left off TCP chains (Istio does the same for HTTP providers); a bad provider still denies all.
std::vector<Filter> customNetworkFilters(const ProxyView& view, std::span<const core::Resource* const> policies);

}  // namespace mesh::xds::security
