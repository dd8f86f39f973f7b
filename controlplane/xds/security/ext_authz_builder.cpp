#include "controlplane/xds/security/ext_authz_builder.h"

#include <algorithm>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/proto_util.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"

namespace mesh::xds::security {
namespace {

using envoy::extensions::filters::http::ext_authz::v3::ExtAuthz;
using model::text;

constexpr std::string_view kHttpExtAuthzFilter = "envoy.filters.http.ext_authz";
constexpr std::string_view kNetworkExtAuthzFilter = "envoy.filters.network.ext_authz";
// The RBAC filter publishes "<shadow_rules_stat_prefix>shadow_effective_policy_id" when a
// shadow rule matches; ext_authz runs when that names a CUSTOM policy.
constexpr std::string_view kExtAuthzStatPrefix = "istio_ext_authz_";

RBAC denyAll() {
  RBAC r;
  r.set_action(RBAC::DENY);
  auto& p = (*r.mutable_policies())["default-deny-all-due-to-bad-CUSTOM-action"];
  p.add_permissions()->set_any(true);
  p.add_principals()->set_any(true);
  return r;
}

// The one provider of the workload's CUSTOM policies; nullopt when they disagree.
std::optional<std::string> soleProvider(std::span<const core::Resource* const> policies) {
  std::string provider(text(policies.front()->spec()->get("provider"), "name"));
  for (const core::Resource* p : policies)
    if (text(p->spec()->get("provider"), "name") != provider) return std::nullopt;
  return provider;
}

HttpFilter httpFilter(std::string_view name, const google::protobuf::Message& config) {
  HttpFilter f;
  f.set_name(std::string(name));
  *f.mutable_typed_config() = pack(config);
  return f;
}

}  // namespace

std::vector<HttpFilter> customHttpFilters(const ProxyView& view, std::span<const core::Resource* const> policies) {
  if (policies.empty()) return {};
  envoy::extensions::filters::http::rbac::v3::RBAC rbac;
  auto provider = soleProvider(policies);
  auto service = provider ? resolveExtAuthzProvider(view.snapshot, *provider)
                          : Result<ExtAuthzService>(fail(ErrorCode::InvalidInput, "several providers"));
  if (!service) {
    *rbac.mutable_rules() = denyAll();
    return {httpFilter(kHttpRbacFilter, rbac)};
  }
  // CUSTOM rules select which requests go to the authorizer; the authorizer decides.
  BuildOptions options{view.snapshot.options().trustDomain, false, "istio-ext-authz-", false};
  auto rules = buildActionRules(policies, RBAC::DENY, options);
  *rbac.mutable_shadow_rules() = *rules->rules;
  rbac.set_shadow_rules_stat_prefix(std::string(kExtAuthzStatPrefix));
  return {httpFilter(kHttpRbacFilter, rbac), httpFilter(kHttpExtAuthzFilter, httpExtAuthzConfig(*service, kHttpRbacFilter))};
}

// Istio's TCP ext_authz (extauthz.go's tcp): the provider's gRPC service, stat prefix "tcp.",
// enabled for connections the network RBAC shadow rules tagged.
envoy::extensions::filters::network::ext_authz::v3::ExtAuthz tcpExtAuthzConfig(const ExtAuthzService& service) {
  envoy::extensions::filters::network::ext_authz::v3::ExtAuthz config;
  config.set_stat_prefix(std::string(kTcpStatPrefix));
  *config.mutable_grpc_service() = extAuthzGrpcService(service);
  config.set_failure_mode_allow(service.provider != nullptr && service.provider->failOpen);
  config.set_transport_api_version(envoy::config::core::v3::V3);
  // The same matcher as the HTTP filter's, on the network RBAC filter's metadata.
  *config.mutable_filter_enabled_metadata() = httpExtAuthzConfig(service, kNetworkRbacFilter).filter_enabled_metadata();
  return config;
}

std::vector<Filter> customNetworkFilters(const ProxyView& view, std::span<const core::Resource* const> policies) {
  if (policies.empty()) return {};
  auto provider = soleProvider(policies);
  auto service = provider ? resolveExtAuthzProvider(view.snapshot, *provider)
                          : Result<ExtAuthzService>(fail(ErrorCode::InvalidInput, "several providers"));
  if (!service) {
    ActionRules bad;
    bad.rules = denyAll();
    return {rbacNetworkFilter(bad)};
  }
  // Istio checks TCP connections only with gRPC providers; an HTTP provider leaves TCP alone.
  if (service->http) return {};
  BuildOptions options{view.snapshot.options().trustDomain, true, "istio-ext-authz-", false};
  auto rules = buildActionRules(policies, RBAC::DENY, options);
  envoy::extensions::filters::network::rbac::v3::RBAC rbac;
  rbac.set_stat_prefix(std::string(kTcpStatPrefix));
  *rbac.mutable_shadow_rules() = *rules->rules;
  rbac.set_shadow_rules_stat_prefix(std::string(kExtAuthzStatPrefix));
  Filter tag;
  tag.set_name(std::string(kNetworkRbacFilter));
  *tag.mutable_typed_config() = pack(rbac);
  Filter check;
  check.set_name(std::string(kNetworkExtAuthzFilter));
  *check.mutable_typed_config() = pack(tcpExtAuthzConfig(*service));
  return {tag, check};
}

}  // namespace mesh::xds::security
