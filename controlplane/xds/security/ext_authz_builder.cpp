#include "controlplane/xds/security/ext_authz_builder.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/model/protocol.h"
#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/proto_util.h"
#include "envoy/extensions/filters/http/ext_authz/v3/ext_authz.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"

namespace mesh::xds::security {
namespace {

using envoy::extensions::filters::http::ext_authz::v3::ExtAuthz;
using model::text;

constexpr std::string_view kHttpExtAuthzFilter = "envoy.filters.http.ext_authz";
// The RBAC filter publishes "<shadow_rules_stat_prefix>shadow_effective_policy_id" when a
// shadow rule matches; ext_authz runs when that names a CUSTOM policy.
constexpr std::string_view kExtAuthzStatPrefix = "istio_ext_authz_";
constexpr std::string_view kExtAuthzPolicyPrefix = "istio-ext-authz";
constexpr int64_t kExtAuthzTimeoutSeconds = 600;  // Istio's: a DestinationRule timeout is the real bound

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

ExtAuthz extAuthzConfig(const ExtAuthzService& service) {
  ExtAuthz config;
  config.set_transport_api_version(envoy::config::core::v3::V3);
  config.set_failure_mode_allow(false);
  if (service.http) {
    auto* uri = config.mutable_http_service()->mutable_server_uri();
    uri->set_uri(fmt::format("http://{}", service.host));  // required by Envoy, unused with a cluster
    uri->set_cluster(service.cluster);
    uri->mutable_timeout()->set_seconds(kExtAuthzTimeoutSeconds);
  } else {
    auto* grpc = config.mutable_grpc_service();
    grpc->mutable_envoy_grpc()->set_cluster_name(service.cluster);
    // '|' is not valid in an :authority; Istio's substitute keeps the name readable.
    std::string authority = service.cluster;
    for (size_t at = authority.find('|'); at != std::string::npos; at = authority.find('|', at + 2))
      authority.replace(at, 1, "_.");
    grpc->mutable_envoy_grpc()->set_authority(authority);
    grpc->mutable_timeout()->set_seconds(kExtAuthzTimeoutSeconds);
  }
  auto* enabled = config.mutable_filter_enabled_metadata();
  enabled->set_filter(std::string(kHttpRbacFilter));
  enabled->add_path()->set_key(fmt::format("{}shadow_effective_policy_id", kExtAuthzStatPrefix));
  enabled->mutable_value()->mutable_string_match()->set_prefix(std::string(kExtAuthzPolicyPrefix));
  return config;
}

HttpFilter httpFilter(std::string_view name, const google::protobuf::Message& config) {
  HttpFilter f;
  f.set_name(std::string(name));
  *f.mutable_typed_config() = pack(config);
  return f;
}

}  // namespace

std::optional<ExtAuthzService> resolveExtAuthzProvider(const ProxyView& view, std::string_view name) {
  std::string_view host = name;
  std::optional<uint32_t> port;
  if (size_t colon = name.rfind(':'); colon != std::string_view::npos) {
    std::string_view digits = name.substr(colon + 1);
    uint32_t n = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || n == 0 || n > 65535) return std::nullopt;
    host = name.substr(0, colon);
    port = n;
  }
  const model::Service* svc = host.empty() ? nullptr : view.snapshot.service(host, view.proxy.namespace_);
  if (!svc || svc->ports.empty()) return std::nullopt;
  const model::ServicePort* sp = port ? svc->port(*port) : &svc->ports.front();
  ExtAuthzService out;
  out.host = svc->hostname;
  out.port = port.value_or(sp ? sp->port : 0);
  out.cluster = outboundCluster(out.port, "", out.host);
  out.http = sp && sp->protocol == model::Protocol::Http;
  return out;
}

std::vector<HttpFilter> customHttpFilters(const ProxyView& view, std::span<const core::Resource* const> policies) {
  if (policies.empty()) return {};
  envoy::extensions::filters::http::rbac::v3::RBAC rbac;
  auto provider = soleProvider(policies);
  auto service = provider ? resolveExtAuthzProvider(view, *provider) : std::nullopt;
  if (!service) {
    *rbac.mutable_rules() = denyAll();
    return {httpFilter(kHttpRbacFilter, rbac)};
  }
  // CUSTOM rules select which requests go to the authorizer; the authorizer decides.
  BuildOptions options{view.snapshot.options().trustDomain, false, "istio-ext-authz-", false};
  auto rules = buildActionRules(policies, RBAC::DENY, options);
  *rbac.mutable_shadow_rules() = *rules->rules;
  rbac.set_shadow_rules_stat_prefix(std::string(kExtAuthzStatPrefix));
  return {httpFilter(kHttpRbacFilter, rbac), httpFilter(kHttpExtAuthzFilter, extAuthzConfig(*service))};
}

std::vector<Filter> customNetworkFilters(const ProxyView& view, std::span<const core::Resource* const> policies) {
  if (policies.empty()) return {};
  auto provider = soleProvider(policies);
  if (provider && resolveExtAuthzProvider(view, *provider)) return {};
  ActionRules bad;
  bad.rules = denyAll();
  return {rbacNetworkFilter(bad)};
}

}  // namespace mesh::xds::security
