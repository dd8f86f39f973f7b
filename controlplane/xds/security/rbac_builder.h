// AuthorizationPolicy → Envoy RBAC filters, after Istio's authz builder
// (pilot/pkg/security/authz/builder): the policies selecting a proxy are grouped by action and
// each action becomes one RBAC filter, AUDIT, then DENY, then ALLOW; each rule is a policy named
// "ns[<namespace>]-policy[<name>]-rule[<index>]". CUSTOM is ext_authz_builder.h's. Pure; any thread.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "controlplane/xds/generator.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/config/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace mesh::xds::security {

using envoy::config::listener::v3::Filter;
using envoy::config::rbac::v3::RBAC;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter;

inline constexpr std::string_view kHttpRbacFilter = "envoy.filters.http.rbac";
inline constexpr std::string_view kNetworkRbacFilter = "envoy.filters.network.rbac";
inline constexpr std::string_view kTcpStatPrefix = "tcp.";

// The AuthorizationPolicies applying to a proxy by action, each list in namespace/name order.
struct AuthorizationPolicies {
  std::vector<const core::Resource*> custom, audit, deny, allow;
};
AuthorizationPolicies authorizationPolicies(const ProxyView& view);

// The RBAC config of one action: enforced rules and the dry-run ones ("istio.io/dry-run":
// "true" policies, evaluated and logged but never enforced).
struct ActionRules {
  std::optional<RBAC> rules;
  std::optional<RBAC> shadowRules;
};

struct BuildOptions {
  std::string_view trustDomain;
  bool forTcp = false;
  std::string_view namePrefix;  // "istio-ext-authz-" for CUSTOM
  bool honorDryRun = true;
};

// nullopt when `policies` is empty. A policy without rules contributes a policy that never
// matches, so an ALLOW policy `spec: {}` allows nothing while a DENY one denies nothing.
std::optional<ActionRules> buildActionRules(std::span<const core::Resource* const> policies, RBAC::Action action,
                                            const BuildOptions& options);

HttpFilter rbacHttpFilter(const ActionRules& rules);
Filter rbacNetworkFilter(const ActionRules& rules);

// AUDIT, DENY and ALLOW filters, one per action present.
std::vector<HttpFilter> rbacHttpFilters(const ProxyView& view, const AuthorizationPolicies& policies);
std::vector<Filter> rbacNetworkFilters(const ProxyView& view, const AuthorizationPolicies& policies);

}  // namespace mesh::xds::security
