// Network ext_authz: see ext_authz_network.h.
#include "proxy/dataplane/ext_authz_network.h"

#include "envoy/extensions/filters/network/ext_authz/v3/ext_authz.pb.h"
#include "proxy/dataplane/compile_support.h"
#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/ext_authz_grpc.h"
#include "proxy/dataplane/security_filters.h"
#include "proxy/telemetry/response_flags.h"

namespace mesh::proxy::dataplane {

namespace {

using namespace detail;
namespace nav3 = envoy::extensions::filters::network::ext_authz::v3;

// One check: true to go on (allowed, or failure_mode_allow after an error), with Envoy's
// counters; a filter_enabled_metadata that does not match skips the check.
asio::awaitable<bool> runNetworkExtAuthz(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                         const Downstream& ds, const authz::DynamicMetadata& metadata) {
  if (config.enabledMetadata && !config.enabledMetadata->matches(&metadata)) co_return true;
  std::string localPrincipal;
  if (ds.tls && !ds.tls->localUriSans.empty()) localPrincipal = ds.tls->localUriSans.front();
  std::optional<bool> allowed = co_await grpcCheckConnection(engine, worker, config, ds.info, localPrincipal);
  if (!allowed) {
    engine.extAuthzErrors.fetch_add(1, std::memory_order_relaxed);
    co_return config.failureModeAllow;
  }
  if (*allowed) {
    engine.extAuthzAllowed.fetch_add(1, std::memory_order_relaxed);
  } else {
    engine.extAuthzDenied.fetch_add(1, std::memory_order_relaxed);
  }
  co_return *allowed;
}

}  // namespace

Result<std::shared_ptr<const ExtAuthzConfig>> compileNetworkExtAuthz(const google::protobuf::Any& typedConfig,
                                                                     const std::string& where) {
  nav3::ExtAuthz c;
  if (!typedConfig.UnpackTo(&c)) return invalid(where, "cannot decode network ExtAuthz");
  if (!c.has_grpc_service()) return invalid(where + ".grpc_service", "is required");
  const auto& g = c.grpc_service();
  if (!g.has_envoy_grpc()) return invalid(where + ".grpc_service", "only envoy_grpc is supported (not google_grpc)");
  auto out = std::make_shared<ExtAuthzConfig>();
  out->grpc = true;
  out->cluster = g.envoy_grpc().cluster_name();
  if (out->cluster.empty()) return invalid(where + ".grpc_service.envoy_grpc.cluster_name", "is required");
  out->grpcAuthority = g.envoy_grpc().authority().empty() ? out->cluster : g.envoy_grpc().authority();
  if (g.has_timeout()) out->timeout = toMillis(g.timeout());  // default 200 ms, as Envoy's
  if (out->timeout.count() <= 0) return invalid(where + ".grpc_service.timeout", "must be positive");
  for (const auto& m : g.initial_metadata()) {
    if (m.key().empty() || m.key().front() == ':') {
      return invalid(where + ".grpc_service.initial_metadata", "bad header name '" + m.key() + "'");
    }
    out->headersToAdd.emplace_back(lower(m.key()), m.value());
  }
  out->failureModeAllow = c.failure_mode_allow();
  if (c.has_filter_enabled_metadata()) {
    auto m = authz::compileMetadataMatcher(c.filter_enabled_metadata(), where + ".filter_enabled_metadata");
    if (!m) return Failure(m.error());
    out->enabledMetadata = std::move(*m);
  }
  return std::shared_ptr<const ExtAuthzConfig>(std::move(out));
}

asio::awaitable<bool> networkFiltersAllow(Engine& engine, Worker& worker, const TcpProxyConfig& config,
                                          const Downstream& ds, uint32_t& responseFlags) {
  if (!config.networkExtAuthz) co_return networkRbacAllows(engine, config.networkRbac, ds.info);
  authz::DynamicMetadata metadata = authz::DynamicMetadata::object();
  size_t at = config.networkExtAuthzAt;
  if (!networkRbacAllows(engine, config.networkRbac, ds.info, metadata, 0, at)) co_return false;
  bool allowed = co_await runNetworkExtAuthz(engine, worker, *config.networkExtAuthz, ds, metadata);
  if (!allowed) {
    responseFlags |= telemetry::kUnauthorizedExternalService;
    co_return false;
  }
  co_return networkRbacAllows(engine, config.networkRbac, ds.info, metadata, at, config.networkRbac.size());
}

}  // namespace mesh::proxy::dataplane
