// Listener → Listener: address, bind_to_port, use_original_dst, listener filters, filter chains
// with their filter_chain_match, and each chain's terminal network filter (the HTTP connection
// manager with its http_filters, or tcp_proxy; envoy.filters.network.rbac before it). HTTP filters:
// fault, jwt_authn, RBAC (proxy/authz), ext_authz (ext_authz.h), istio.alpn (applied upstream),
// router. Unknown filters are refused unless is_optional.
#include <set>
#include <utility>

#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/rbac/v3/rbac.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "istio/envoy/config/filter/http/alpn/v2alpha1/config.pb.h"
#include "proxy/dataplane/compile_support.h"
#include "proxy/dataplane/compile_tls.h"
#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/ext_authz.h"
#include "proxy/dataplane/ext_authz_network.h"
#include "proxy/authz/jwt_authn.h"
#include "proxy/authz/rbac_engine.h"

namespace mesh::proxy::dataplane {

namespace {

using namespace detail;
namespace lv3 = envoy::config::listener::v3;
namespace hcmv3 = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcpv3 = envoy::extensions::filters::network::tcp_proxy::v3;

bool typeIs(const google::protobuf::Any& any, std::string_view suffix) {
  return any.type_url().ends_with(suffix);
}

// Filters that only add telemetry or metadata: skipping them changes no request's outcome.
bool isTelemetryOnly(const std::string& name) {
  static const std::set<std::string, std::less<>> kNames = {
      "istio.metadata_exchange", "istio.stats", "envoy.filters.http.grpc_stats",
      "envoy.filters.network.metadata_exchange", "envoy.filters.http.cors"};
  return kNames.contains(name);
}

// istio.alpn's FilterConfig: one ALPN list per upstream protocol (the first entry for a
// protocol counts, as in Istio's filter).
Result<std::shared_ptr<const AlpnOverride>> compileIstioAlpn(const google::protobuf::Any& any, const std::string& where) {
  using AlpnConfig = istio::envoy::config::filter::http::alpn::v2alpha1::FilterConfig;
  AlpnConfig config;
  if (!any.value().empty() && !any.UnpackTo(&config)) return invalid(where, "cannot decode istio.alpn FilterConfig");
  auto out = std::make_shared<AlpnOverride>();
  bool seen[3] = {false, false, false};
  for (int i = 0; i < config.alpn_override_size(); ++i) {
    const auto& o = config.alpn_override(i);
    std::vector<std::string> list;
    for (const auto& a : o.alpn_override()) {
      if (a.empty() || a.size() > 255) {
        return invalid(where + ".alpn_override[" + std::to_string(i) + "]", "protocol names are 1 to 255 bytes");
      }
      list.push_back(a);
    }
    int p = static_cast<int>(o.upstream_protocol());
    if (p >= 0 && p < 3 && std::exchange(seen[p], true)) continue;
    switch (o.upstream_protocol()) {
      case AlpnConfig::HTTP10: out->http10 = std::move(list); break;
      case AlpnConfig::HTTP11: out->http11 = std::move(list); break;
      case AlpnConfig::HTTP2: out->http2 = std::move(list); break;
      default: return invalid(where + ".alpn_override[" + std::to_string(i) + "].upstream_protocol", "unknown protocol");
    }
  }
  return std::shared_ptr<const AlpnOverride>(std::move(out));
}

Result<HttpConnectionManagerConfig> compileHcm(const hcmv3::HttpConnectionManager& h,
                                               const std::string& where) {
  HttpConnectionManagerConfig out;
  out.statPrefix = h.stat_prefix();
  switch (h.codec_type()) {
    case hcmv3::HttpConnectionManager::HTTP1: out.codec = HttpConnectionManagerConfig::Codec::Http1; break;
    case hcmv3::HttpConnectionManager::HTTP2: out.codec = HttpConnectionManagerConfig::Codec::Http2; break;
    case hcmv3::HttpConnectionManager::AUTO: break;
    default: return invalid(where + ".codec_type", "only AUTO, HTTP1 and HTTP2 (h2c) are served");
  }
  if (h.has_http2_protocol_options()) {
    auto http2 = compileHttp2Options(h.http2_protocol_options(), where + ".http2_protocol_options");
    if (!http2) return Failure(http2.error());
    out.http2 = *http2;
  }
  switch (h.route_specifier_case()) {
    case hcmv3::HttpConnectionManager::kRds:
      out.rdsName = h.rds().route_config_name();
      if (out.rdsName.empty()) return invalid(where + ".rds", "empty route_config_name");
      break;
    case hcmv3::HttpConnectionManager::kRouteConfig: {
      auto rc = compileRouteConfig(h.route_config());
      if (!rc) return invalid(where + ".route_config", rc.error().message);
      out.inlineRoutes = *rc;
      break;
    }
    default: return invalid(where, "scoped_routes are not supported");
  }
  bool sawRouter = false;
  for (int i = 0; i < h.http_filters_size(); ++i) {
    const auto& f = h.http_filters(i);
    std::string fw = where + ".http_filters[" + std::to_string(i) + "] (" + f.name() + ")";
    if (sawRouter) return invalid(fw, "filters after the router are never reached");
    if (f.disabled()) continue;
    HttpFilter filter;
    filter.name = f.name();
    if (f.name() == "envoy.filters.http.router" ||
        typeIs(f.typed_config(), "filters.http.router.v3.Router")) {
      filter.kind = HttpFilterKind::Router;
      sawRouter = true;
    } else if (f.name() == "envoy.filters.http.fault" ||
               typeIs(f.typed_config(), "filters.http.fault.v3.HTTPFault")) {
      filter.kind = HttpFilterKind::Fault;
      if (f.has_typed_config()) {
        auto fault = compileFaultAny(f.typed_config(), fw);
        if (!fault) return Failure(fault.error());
        filter.fault = *fault;
      }
    } else if (f.name() == "envoy.filters.http.rbac" || typeIs(f.typed_config(), "filters.http.rbac.v3.RBAC")) {
      envoy::extensions::filters::http::rbac::v3::RBAC config;
      if (f.has_typed_config() && !f.typed_config().UnpackTo(&config)) return invalid(fw, "cannot decode RBAC");
      auto rbac = authz::RbacFilter::compileHttp(config, fw);
      if (!rbac) return Failure(rbac.error());
      filter.kind = HttpFilterKind::Rbac;
      filter.rbac = *rbac;
    } else if (f.name() == "envoy.filters.http.jwt_authn" ||
               typeIs(f.typed_config(), "filters.http.jwt_authn.v3.JwtAuthentication")) {
      envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication config;
      if (f.has_typed_config() && !f.typed_config().UnpackTo(&config)) return invalid(fw, "cannot decode JwtAuthentication");
      auto jwt = authz::JwtAuthn::compile(config, fw);
      if (!jwt) return Failure(jwt.error());
      filter.kind = HttpFilterKind::JwtAuthn;
      filter.jwt = *jwt;
    } else if (f.name() == "envoy.filters.http.ext_authz" ||
               typeIs(f.typed_config(), "filters.http.ext_authz.v3.ExtAuthz")) {
      auto extAuthz = compileExtAuthz(f.typed_config(), fw);
      if (!extAuthz) return Failure(extAuthz.error());
      filter.kind = HttpFilterKind::ExtAuthz;
      filter.extAuthz = *extAuthz;
    } else if (f.name() == "istio.alpn" || typeIs(f.typed_config(), "alpn.v2alpha1.FilterConfig")) {
      auto alpn = compileIstioAlpn(f.typed_config(), fw);
      if (!alpn) return Failure(alpn.error());
      out.alpnOverride = *alpn;
      filter.kind = HttpFilterKind::NoOp;  // applied when the router connects upstream
    } else if (isTelemetryOnly(f.name())) {
      filter.kind = HttpFilterKind::NoOp;
    } else if (f.is_optional()) {
      continue;
    } else {
      return invalid(fw, "HTTP filter is not supported by this proxy");
    }
    out.httpFilters.push_back(std::move(filter));
  }
  if (!sawRouter) return invalid(where + ".http_filters", "the last filter must be the router");
  out.normalizePath = h.has_normalize_path() && h.normalize_path().value();
  out.mergeSlashes = h.merge_slashes();
  out.useRemoteAddress = h.has_use_remote_address() && h.use_remote_address().value();
  out.xffTrustedHops = h.xff_num_trusted_hops();
  out.generateRequestId = !h.has_generate_request_id() || h.generate_request_id().value();
  out.preserveExternalRequestId = h.preserve_external_request_id();
  if (!h.server_name().empty()) out.serverName = h.server_name();
  switch (h.server_header_transformation()) {
    case hcmv3::HttpConnectionManager::APPEND_IF_ABSENT:
      out.serverHeader = HttpConnectionManagerConfig::ServerHeader::AppendIfAbsent;
      break;
    case hcmv3::HttpConnectionManager::PASS_THROUGH:
      out.serverHeader = HttpConnectionManagerConfig::ServerHeader::PassThrough;
      break;
    default: break;
  }
  if (h.has_max_request_headers_kb()) {
    out.maxRequestHeadersKb = h.max_request_headers_kb().value();
    if (out.maxRequestHeadersKb == 0 || out.maxRequestHeadersKb > 8192) {
      return invalid(where + ".max_request_headers_kb", "must be in [1, 8192]");
    }
  }
  out.http1Trailers = h.http_protocol_options().enable_trailers();
  const auto& common = h.common_http_protocol_options();
  if (common.has_max_headers_count()) out.maxHeadersCount = common.max_headers_count().value();
  if (common.has_idle_timeout()) out.idleTimeout = toMillis(common.idle_timeout());
  using Underscores = envoy::config::core::v3::HttpProtocolOptions;
  out.rejectHeadersWithUnderscores = common.headers_with_underscores_action() == Underscores::REJECT_REQUEST;
  out.dropHeadersWithUnderscores = common.headers_with_underscores_action() == Underscores::DROP_HEADER;
  if (h.strip_matching_host_port()) out.stripPort = HttpConnectionManagerConfig::StripPort::Matching;
  if (h.strip_port_mode_case() == hcmv3::HttpConnectionManager::kStripAnyHostPort &&
      h.strip_any_host_port()) {
    out.stripPort = HttpConnectionManagerConfig::StripPort::Any;
  }
  if (h.has_request_headers_timeout()) out.requestHeadersTimeout = toMillis(h.request_headers_timeout());
  if (h.has_stream_idle_timeout()) out.streamIdleTimeout = toMillis(h.stream_idle_timeout());
  using Fcc = HttpConnectionManagerConfig::ForwardClientCert;
  switch (h.forward_client_cert_details()) {
    case hcmv3::HttpConnectionManager::FORWARD_ONLY: out.forwardClientCert = Fcc::ForwardOnly; break;
    case hcmv3::HttpConnectionManager::APPEND_FORWARD: out.forwardClientCert = Fcc::AppendForward; break;
    case hcmv3::HttpConnectionManager::SANITIZE_SET: out.forwardClientCert = Fcc::SanitizeSet; break;
    case hcmv3::HttpConnectionManager::ALWAYS_FORWARD_ONLY: out.forwardClientCert = Fcc::AlwaysForwardOnly; break;
    default: break;
  }
  const auto& details = h.set_current_client_cert_details();
  out.clientCertDetails.subject = details.has_subject() && details.subject().value();
  out.clientCertDetails.cert = details.cert();
  out.clientCertDetails.chain = details.chain();
  out.clientCertDetails.dns = details.dns();
  out.clientCertDetails.uri = details.uri();
  for (const auto& u : h.upgrade_configs()) {
    if (u.filters_size() > 0) return invalid(where + ".upgrade_configs", "per-upgrade filter chains are not supported");
    out.upgrades[lower(u.upgrade_type())] = !u.has_enabled() || u.enabled().value();
  }
  return out;
}

Result<TcpProxyConfig> compileTcpProxy(const tcpv3::TcpProxy& t, const std::string& where) {
  TcpProxyConfig out;
  out.statPrefix = t.stat_prefix();
  if (t.cluster_specifier_case() == tcpv3::TcpProxy::kCluster) {
    out.cluster = t.cluster();
  } else if (t.cluster_specifier_case() == tcpv3::TcpProxy::kWeightedClusters) {
    for (const auto& c : t.weighted_clusters().clusters()) {
      WeightedCluster wc;
      wc.name = c.name();
      wc.weight = c.weight();
      out.totalWeight += wc.weight;
      out.weightedClusters.push_back(std::move(wc));
    }
    if (out.totalWeight == 0) return invalid(where + ".weighted_clusters", "sum of weights is 0");
  } else {
    return invalid(where, "needs cluster or weighted_clusters");
  }
  if (t.has_idle_timeout()) out.idleTimeout = toMillis(t.idle_timeout());
  if (t.has_max_downstream_connection_duration()) {
    out.maxDownstreamConnectionDuration = toMillis(t.max_downstream_connection_duration());
    if (out.maxDownstreamConnectionDuration->count() <= 0) out.maxDownstreamConnectionDuration.reset();  // 0: none
  }
  if (t.has_max_connect_attempts()) out.maxConnectAttempts = std::max(1u, t.max_connect_attempts().value());
  if (t.has_tunneling_config()) return invalid(where + ".tunneling_config", "not supported");
  return out;
}

Result<std::vector<CidrRange>> compileCidrs(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::CidrRange>& ranges,
    const std::string& where) {
  std::vector<CidrRange> out;
  for (const auto& r : ranges) {
    CidrRange c;
    c.address = r.address_prefix();
    c.prefixLen = r.has_prefix_len() ? r.prefix_len().value() : 0;
    CidrRange probe = c;
    probe.prefixLen = 0;
    if (!probe.contains(c.address)) return invalid(where, "bad CIDR address " + c.address);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::shared_ptr<const FilterChain>> compileChain(const lv3::FilterChain& fc,
                                                        const std::string& where) {
  auto out = std::make_shared<FilterChain>();
  out->name = fc.name();
  const auto& m = fc.filter_chain_match();
  if (m.has_destination_port()) out->match.destinationPort = m.destination_port().value();
  auto prefixes = compileCidrs(m.prefix_ranges(), where + ".filter_chain_match.prefix_ranges");
  if (!prefixes) return Failure(prefixes.error());
  out->match.prefixRanges = std::move(*prefixes);
  auto sources = compileCidrs(m.source_prefix_ranges(), where + ".filter_chain_match.source_prefix_ranges");
  if (!sources) return Failure(sources.error());
  out->match.sourcePrefixRanges = std::move(*sources);
  for (uint32_t p : m.source_ports()) out->match.sourcePorts.push_back(p);
  for (const auto& s : m.server_names()) out->match.serverNames.push_back(lower(s));
  out->match.transportProtocol = m.transport_protocol();
  for (const auto& a : m.application_protocols()) out->match.applicationProtocols.push_back(a);
  if (m.direct_source_prefix_ranges_size() > 0 || m.source_type() != lv3::FilterChainMatch::ANY) {
    return invalid(where + ".filter_chain_match", "direct_source_prefix_ranges and source_type are not supported");
  }
  if (fc.has_transport_socket()) {
    switch (transportSocketKind(fc.transport_socket(), true)) {
      case TransportSocketKind::Tls: {
        auto tls = compileDownstreamTls(fc.transport_socket(), where + ".transport_socket");
        if (!tls) return Failure(tls.error());
        out->tls = *tls;
        break;
      }
      case TransportSocketKind::Raw: break;
      case TransportSocketKind::Unknown:
        return invalid(where + ".transport_socket", fc.transport_socket().name() + " is not supported");
    }
  }
  bool terminal = false;
  NetworkRbacFilters networkRbac;
  std::shared_ptr<const ExtAuthzConfig> networkExtAuthz;
  size_t networkExtAuthzAt = 0;
  for (int i = 0; i < fc.filters_size(); ++i) {
    const auto& f = fc.filters(i);
    std::string fw = where + ".filters[" + std::to_string(i) + "] (" + f.name() + ")";
    if (terminal) return invalid(fw, "filters after a terminal filter are never reached");
    if (typeIs(f.typed_config(), "http_connection_manager.v3.HttpConnectionManager")) {
      hcmv3::HttpConnectionManager h;
      if (!f.typed_config().UnpackTo(&h)) return invalid(fw, "cannot decode HttpConnectionManager");
      auto hcm = compileHcm(h, fw);
      if (!hcm) return Failure(hcm.error());
      out->filter = std::move(*hcm);
      terminal = true;
    } else if (typeIs(f.typed_config(), "tcp_proxy.v3.TcpProxy")) {
      tcpv3::TcpProxy t;
      if (!f.typed_config().UnpackTo(&t)) return invalid(fw, "cannot decode TcpProxy");
      auto tcp = compileTcpProxy(t, fw);
      if (!tcp) return Failure(tcp.error());
      out->filter = std::move(*tcp);
      terminal = true;
    } else if (f.name() == "envoy.filters.network.rbac" || typeIs(f.typed_config(), "filters.network.rbac.v3.RBAC")) {
      envoy::extensions::filters::network::rbac::v3::RBAC config;
      if (f.has_typed_config() && !f.typed_config().UnpackTo(&config)) return invalid(fw, "cannot decode RBAC");
      auto rbac = authz::RbacFilter::compileNetwork(config, fw);
      if (!rbac) return Failure(rbac.error());
      networkRbac.push_back(*rbac);
    } else if (f.name() == "envoy.filters.network.ext_authz" ||
               typeIs(f.typed_config(), "filters.network.ext_authz.v3.ExtAuthz")) {
      if (networkExtAuthz) return invalid(fw, "one network ext_authz filter per chain is supported");
      auto extAuthz = compileNetworkExtAuthz(f.typed_config(), fw);
      if (!extAuthz) return Failure(extAuthz.error());
      networkExtAuthz = *extAuthz;
      networkExtAuthzAt = networkRbac.size();
    } else if (!isTelemetryOnly(f.name())) {
      return invalid(fw, "network filter is not supported by this proxy");
    }
  }
  if (auto* hcm = std::get_if<HttpConnectionManagerConfig>(&out->filter)) {
    hcm->networkRbac = networkRbac;
    if (networkExtAuthz) {
      return invalid(where, "network ext_authz in front of an http_connection_manager is not supported; "
                            "use the HTTP ext_authz filter");
    }
  }
  if (auto* tcp = std::get_if<TcpProxyConfig>(&out->filter)) {
    tcp->networkRbac = networkRbac;
    tcp->networkExtAuthz = networkExtAuthz;
    tcp->networkExtAuthzAt = networkExtAuthzAt;
  }
  if (!terminal) return invalid(where, "needs an http_connection_manager or tcp_proxy filter");
  return std::shared_ptr<const FilterChain>(std::move(out));
}

}  // namespace

Result<std::shared_ptr<const Listener>> compileListener(const lv3::Listener& l) {
  auto out = std::make_shared<Listener>();
  out->name = l.name();
  std::string where = "Listener " + l.name();
  if (l.has_api_listener() || l.has_internal_listener()) {
    return invalid(where, "api and internal listeners are not supported");
  }
  if (!l.address().has_socket_address()) return invalid(where + ".address", "needs a socket address");
  const auto& sa = l.address().socket_address();
  if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
    return invalid(where + ".address", "only TCP listeners are supported");
  }
  out->address = sa.address();
  out->port = sa.port_value();
  out->bindToPort = !l.has_bind_to_port() || l.bind_to_port().value();
  out->useOriginalDst = l.has_use_original_dst() && l.use_original_dst().value();
  out->inbound = l.traffic_direction() == envoy::config::core::v3::INBOUND || l.name() == "virtualInbound";
  if (l.has_filter_chain_matcher()) {
    return invalid(where + ".filter_chain_matcher", "the matcher API is not supported; use filter_chain_match");
  }
  for (const auto& lf : l.listener_filters()) {
    if (lf.name() == "envoy.filters.listener.tls_inspector" || typeIs(lf.typed_config(), "tls_inspector.v3.TlsInspector")) {
      out->tlsInspector = true;
    } else if (lf.name() == "envoy.filters.listener.http_inspector" ||
               typeIs(lf.typed_config(), "http_inspector.v3.HttpInspector")) {
      out->httpInspector = true;
    } else if (lf.name() == "envoy.filters.listener.original_dst" ||
               typeIs(lf.typed_config(), "original_dst.v3.OriginalDst")) {
      out->useOriginalDst = true;
    } else if (!isTelemetryOnly(lf.name())) {
      return invalid(where + ".listener_filters (" + lf.name() + ")", "not supported");
    }
  }
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    auto fc = compileChain(l.filter_chains(i), where + ".filter_chains[" + std::to_string(i) + "]");
    if (!fc) return Failure(fc.error());
    out->filterChains.push_back(*fc);
  }
  if (l.has_default_filter_chain()) {
    auto fc = compileChain(l.default_filter_chain(), where + ".default_filter_chain");
    if (!fc) return Failure(fc.error());
    out->defaultFilterChain = *fc;
  }
  if (out->filterChains.empty() && !out->defaultFilterChain) return invalid(where, "no filter chains");
  return std::shared_ptr<const Listener>(std::move(out));
}

Result<std::shared_ptr<const RuntimeConfig>> compileSnapshot(const XdsSnapshot& snapshot) {
  auto out = std::make_shared<RuntimeConfig>();
  for (const auto& [name, res] : snapshot.clusters) {
    const auto& c = res.resource;
    const envoy::config::endpoint::v3::ClusterLoadAssignment* eds = nullptr;
    if (c.type() == envoy::config::cluster::v3::Cluster::EDS) {
      std::string key = c.eds_cluster_config().service_name().empty() ? c.name()
                                                                       : c.eds_cluster_config().service_name();
      auto it = snapshot.endpoints.find(key);
      if (it != snapshot.endpoints.end()) eds = &it->second.resource;
    }
    auto compiled = compileCluster(c, eds);
    if (!compiled) return Failure(compiled.error());
    out->clusters.emplace(name, *compiled);
  }
  for (const auto& [name, res] : snapshot.routes) {
    auto compiled = compileRouteConfig(res.resource);
    if (!compiled) return Failure(compiled.error());
    out->routes.emplace(name, *compiled);
  }
  std::set<std::pair<std::string, uint32_t>> bound;
  for (const auto& [name, res] : snapshot.listeners) {
    auto compiled = compileListener(res.resource);
    if (!compiled) return Failure(compiled.error());
    const auto& l = **compiled;
    if (l.bindToPort && l.port != 0 && !bound.emplace(l.address, l.port).second) {
      return invalid("Listener " + name, "address " + l.address + ":" + std::to_string(l.port) +
                                             " is already used by another listener");
    }
    out->listeners.emplace(name, *compiled);
  }
  return std::shared_ptr<const RuntimeConfig>(std::move(out));
}

}  // namespace mesh::proxy::dataplane
