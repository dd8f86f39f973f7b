// The inbound security filter chains in Istio's order: authentication (jwt_authn), then
// authorization — CUSTOM (shadow RBAC + ext_authz), AUDIT, DENY, ALLOW. Each builder lives in
// its own file; this one only puts their output in order.
#include "controlplane/xds/security/security_filters.h"

#include "controlplane/xds/security/ext_authz_builder.h"
#include "controlplane/xds/security/jwt_builder.h"
#include "controlplane/xds/security/rbac_builder.h"

namespace mesh::xds {

std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> inboundHttpSecurityFilters(
    const ProxyView& view) {
  std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> out;
  if (auto jwt = security::jwtAuthnFilter(view)) out.push_back(std::move(*jwt));
  security::AuthorizationPolicies policies = security::authorizationPolicies(view);
  for (auto& f : security::customHttpFilters(view, policies.custom)) out.push_back(std::move(f));
  for (auto& f : security::rbacHttpFilters(view, policies)) out.push_back(std::move(f));
  return out;
}

std::vector<envoy::config::listener::v3::Filter> inboundTcpSecurityFilters(const ProxyView& view) {
  std::vector<envoy::config::listener::v3::Filter> out;
  security::AuthorizationPolicies policies = security::authorizationPolicies(view);
  for (auto& f : security::customNetworkFilters(view, policies.custom)) out.push_back(std::move(f));
  for (auto& f : security::rbacNetworkFilters(view, policies)) out.push_back(std::move(f));
  return out;
}

}  // namespace mesh::xds
