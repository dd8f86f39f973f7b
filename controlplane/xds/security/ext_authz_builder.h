// CUSTOM AuthorizationPolicies → external authorization, after Istio's authz builder: an RBAC
// filter with the CUSTOM rules as shadow rules only tags matching requests in dynamic metadata
// (policy names start "istio-ext-authz-"), and the ext_authz filter after it runs only for
// tagged requests. Pure; any thread.
//
// `provider.name` names a MeshConfig extensionProviders entry (ext_authz_provider.h). A provider
// that does not resolve, or several different providers on one workload, deny every request
// (Istio's "default-deny-all-due-to-bad-CUSTOM-action").
#pragma once

#include <span>
#include <vector>

#include "controlplane/xds/security/ext_authz_provider.h"
#include "controlplane/xds/security/rbac_builder.h"

namespace mesh::xds::security {

std::vector<HttpFilter> customHttpFilters(const ProxyView& view, std::span<const core::Resource* const> policies);
// TCP chains, as Istio: for a gRPC provider, a network RBAC filter whose shadow rules tag the
// connections (the CUSTOM rules built for TCP, as a DENY action's are) and the network
// ext_authz filter for tagged ones; nothing for an HTTP provider; a bad provider denies all.
std::vector<Filter> customNetworkFilters(const ProxyView& view, std::span<const core::Resource* const> policies);

}  // namespace mesh::xds::security
