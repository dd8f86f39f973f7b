#include "controlplane/xds/security/ext_authz_provider.h"

#include <set>

#include <fmt/format.h>

#include "controlplane/xds/cluster_names.h"
#include "controlplane/xds/proto_util.h"

namespace mesh::xds::security {
namespace {

using envoy::extensions::filters::http::ext_authz::v3::ExtAuthz;
using envoy::type::matcher::v3::ListStringMatcher;

constexpr int64_t kDefaultTimeoutNanos = 600LL * 1000000000;  // Istio's: a DestinationRule timeout is the real bound
constexpr std::string_view kExtAuthzPolicyPrefix = "istio-ext-authz";
// The RBAC filter publishes "<shadow_rules_stat_prefix>shadow_effective_policy_id" when a
// shadow rule matches; ext_authz runs when that names a CUSTOM policy.
constexpr std::string_view kShadowPolicyIdKey = "istio_ext_authz_shadow_effective_policy_id";

// Istio's generateHeaders: case-insensitive; "*" first is a suffix match, "*" last a prefix one.
void setHeaderMatchers(ListStringMatcher& out, const std::vector<std::string>& headers) {
  for (const std::string& h : headers) {
    auto* m = out.add_patterns();
    m->set_ignore_case(true);
    if (h.starts_with('*')) m->set_suffix(h.substr(1));
    else if (h.ends_with('*')) m->set_prefix(h.substr(0, h.size() - 1));
    else m->set_exact(h);
  }
}

void setCommon(ExtAuthz& config, const model::ExtAuthzProvider& p, std::string_view rbacFilter) {
  config.set_transport_api_version(envoy::config::core::v3::V3);
  config.set_failure_mode_allow(p.failOpen);
  if (p.statusOnError) config.mutable_status_on_error()->set_code(static_cast<envoy::type::v3::StatusCode>(*p.statusOnError));
  if (p.includeRequestBodyInCheck) {
    auto* body = config.mutable_with_request_body();
    body->set_max_request_bytes(p.includeRequestBodyInCheck->maxRequestBytes);
    body->set_allow_partial_message(p.includeRequestBodyInCheck->allowPartialMessage);
    body->set_pack_as_bytes(p.includeRequestBodyInCheck->packAsBytes);
  }
  auto* enabled = config.mutable_filter_enabled_metadata();
  enabled->set_filter(std::string(rbacFilter));
  enabled->add_path()->set_key(std::string(kShadowPolicyIdKey));
  enabled->mutable_value()->mutable_string_match()->set_prefix(std::string(kExtAuthzPolicyPrefix));
}

}  // namespace

Result<ExtAuthzService> resolveExtAuthzProvider(const model::ConfigSnapshot& snapshot, std::string_view name) {
  const model::MeshConfig& mesh = snapshot.meshConfig();
  const model::ExtensionProvider* provider = mesh.provider(name);
  if (!provider) {
    std::string available;
    for (const auto& p : mesh.extensionProviders) available += (available.empty() ? "" : ", ") + p.name;
    return fail(ErrorCode::NotFound, fmt::format("extension provider {:?} is not in the MeshConfig ({}: [{}])", name,
                                                 mesh.source, available));
  }
  if (!provider->extAuthz)
    return fail(ErrorCode::InvalidInput,
                fmt::format("extension provider {:?} is not envoyExtAuthzHttp or envoyExtAuthzGrpc", name));
  const model::ExtAuthzProvider& p = *provider->extAuthz;
  std::string_view ns, host = p.service;
  if (size_t slash = host.find('/'); slash != std::string_view::npos) {
    ns = host.substr(0, slash);
    host = host.substr(slash + 1);
  }
  const model::Service* found = nullptr;
  std::set<std::string_view> namespaces;
  for (const model::Service* svc : snapshot.registry().byHost(host)) {
    if (!ns.empty() && svc->namespace_ != ns) continue;
    namespaces.insert(svc->namespace_);
    found = svc;
  }
  if (!found || namespaces.size() != 1)
    return fail(ErrorCode::NotFound,
                fmt::format("extension provider {:?}: {}", name,
                            found ? fmt::format("service {} is declared in several namespaces: write <namespace>/{}",
                                                p.service, host)
                                  : fmt::format("could not find service {} in the service registry", p.service)));
  ExtAuthzService out;
  out.host = found->hostname;
  out.port = p.port;
  out.cluster = outboundCluster(p.port, "", found->hostname);
  out.http = p.http;
  out.provider = &p;
  return out;
}

envoy::config::core::v3::GrpcService extAuthzGrpcService(const ExtAuthzService& service) {
  envoy::config::core::v3::GrpcService grpc;
  grpc.mutable_envoy_grpc()->set_cluster_name(service.cluster);
  grpc.mutable_envoy_grpc()->set_authority(service.host);
  setDuration(*grpc.mutable_timeout(), service.provider->timeoutNanos.value_or(kDefaultTimeoutNanos));
  return grpc;
}

ExtAuthz httpExtAuthzConfig(const ExtAuthzService& service, std::string_view rbacFilter) {
  const model::ExtAuthzProvider& p = *service.provider;
  ExtAuthz config;
  if (!service.http) {
    *config.mutable_grpc_service() = extAuthzGrpcService(service);
    setCommon(config, p, rbacFilter);
    return config;
  }
  auto* http = config.mutable_http_service();
  http->set_path_prefix(p.pathPrefix);
  auto* uri = http->mutable_server_uri();
  uri->set_uri(fmt::format("http://{}", service.host));  // required by Envoy, unused with a cluster
  uri->set_cluster(service.cluster);
  setDuration(*uri->mutable_timeout(), p.timeoutNanos.value_or(kDefaultTimeoutNanos));
  for (const auto& [key, value] : p.includeAdditionalHeadersInCheck) {
    auto* h = http->mutable_authorization_request()->add_headers_to_add();
    h->set_key(key);
    h->set_value(value);
  }
  if (!p.headersToUpstreamOnAllow.empty() || !p.headersToDownstreamOnDeny.empty() ||
      !p.headersToDownstreamOnAllow.empty()) {
    auto* response = http->mutable_authorization_response();
    setHeaderMatchers(*response->mutable_allowed_upstream_headers(), p.headersToUpstreamOnAllow);
    setHeaderMatchers(*response->mutable_allowed_client_headers(), p.headersToDownstreamOnDeny);
    setHeaderMatchers(*response->mutable_allowed_client_headers_on_success(), p.headersToDownstreamOnAllow);
    // Istio sets only the lists it has; an empty ListStringMatcher would mean "none" to Envoy.
    if (p.headersToUpstreamOnAllow.empty()) response->clear_allowed_upstream_headers();
    if (p.headersToDownstreamOnDeny.empty()) response->clear_allowed_client_headers();
    if (p.headersToDownstreamOnAllow.empty()) response->clear_allowed_client_headers_on_success();
  }
  if (!p.includeRequestHeadersInCheck.empty()) setHeaderMatchers(*config.mutable_allowed_headers(), p.includeRequestHeadersInCheck);
  setCommon(config, p, rbacFilter);
  return config;
}

}  // namespace mesh::xds::security
