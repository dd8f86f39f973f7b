// Cluster (+ its ClusterLoadAssignment) → Cluster: discovery type, load balancing policy,
// circuit breakers, outlier detection, endpoints with locality, priority, weight and health.
// Envoy's defaults where a field is unset (connect_timeout 5 s, thresholds 1024/1024/1024/3).
#include <google/protobuf/struct.pb.h>

#include <algorithm>

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

// max_requests_per_connection is deprecated but still sent by Istio; Envoy honours it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "proxy/dataplane/compile_support.h"
#include "proxy/dataplane/compile_tls.h"
#include "proxy/dataplane/config_compiler.h"

namespace mesh::proxy::dataplane {

namespace {

using namespace detail;
namespace cv3 = envoy::config::cluster::v3;
namespace ev3 = envoy::config::endpoint::v3;
namespace corev3 = envoy::config::core::v3;

enum class SocketKind { Raw, Tls, Unknown };

SocketKind socketKind(const corev3::TransportSocket& ts) {
  const std::string& url = ts.typed_config().type_url();
  if (ts.name() == "envoy.transport_sockets.tls" || url.ends_with("tls.v3.UpstreamTlsContext")) {
    return SocketKind::Tls;
  }
  if (ts.name().empty() || ts.name() == "envoy.transport_sockets.raw_buffer" ||
      url.ends_with("raw_buffer.v3.RawBuffer")) {
    return SocketKind::Raw;
  }
  return SocketKind::Unknown;
}

// transport_socket_matches: the first entry whose match fields all equal the endpoint's
// metadata under "envoy.transport_socket_match" decides; none matching means cluster's socket.
bool metadataMatches(const google::protobuf::Struct& want, const corev3::Metadata& md) {
  auto it = md.filter_metadata().find("envoy.transport_socket_match");
  for (const auto& [key, value] : want.fields()) {
    if (it == md.filter_metadata().end()) return false;
    auto f = it->second.fields().find(key);
    if (f == it->second.fields().end()) return false;
    if (f->second.SerializeAsString() != value.SerializeAsString()) return false;
  }
  return true;
}

HealthStatus healthOf(corev3::HealthStatus h) {
  switch (h) {
    case corev3::UNHEALTHY:
    case corev3::DRAINING:
    case corev3::TIMEOUT: return HealthStatus::Unhealthy;
    case corev3::DEGRADED: return HealthStatus::Degraded;
    default: return HealthStatus::Healthy;
  }
}

// Istio's cluster metadata istio.services[0] names the service exactly (a ServiceEntry host's
// namespace is not in its name); without it the cluster name is parsed.
telemetry::DestinationService serviceOf(const cv3::Cluster& c) {
  auto service = telemetry::serviceFromClusterName(c.name());
  auto istio = c.metadata().filter_metadata().find("istio");
  if (istio == c.metadata().filter_metadata().end()) return service;
  auto services = istio->second.fields().find("services");
  if (services == istio->second.fields().end() || !services->second.has_list_value() ||
      services->second.list_value().values_size() == 0 || !services->second.list_value().values(0).has_struct_value())
    return service;
  const auto& fields = services->second.list_value().values(0).struct_value().fields();
  auto text = [&](const char* key) {
    auto it = fields.find(key);
    return it != fields.end() && it->second.has_string_value() ? it->second.string_value() : std::string();
  };
  if (!text("host").empty()) service.host = text("host");
  if (!text("name").empty()) service.name = text("name");
  if (!text("namespace").empty()) service.namespace_ = text("namespace");
  return service;
}

// `matchTls`: the compiled transport_socket_matches, by index (null: raw_buffer).
Result<void> addEndpoints(const ev3::ClusterLoadAssignment& cla, const cv3::Cluster& c,
                          const std::vector<std::shared_ptr<const UpstreamTlsConfig>>& matchTls, Cluster& out,
                          const std::string& where) {
  if (cla.policy().has_overprovisioning_factor()) {
    out.overprovisioningFactor = cla.policy().overprovisioning_factor().value();
    if (out.overprovisioningFactor == 0) return invalid(where + ".policy.overprovisioning_factor", "must be > 0");
  }
  for (int l = 0; l < cla.endpoints_size(); ++l) {
    const auto& locality = cla.endpoints(l);
    std::string lw = where + ".endpoints[" + std::to_string(l) + "]";
    std::string loc = locality.locality().region() + "/" + locality.locality().zone() + "/" +
                      locality.locality().sub_zone();
    for (int e = 0; e < locality.lb_endpoints_size(); ++e) {
      const auto& lbe = locality.lb_endpoints(e);
      std::string ew = lw + ".lb_endpoints[" + std::to_string(e) + "]";
      if (lbe.has_endpoint_name()) return invalid(ew, "named endpoints are not supported");
      const auto& addr = lbe.endpoint().address();
      if (!addr.has_socket_address()) return invalid(ew, "only socket addresses are supported");
      const auto& sa = addr.socket_address();
      if (sa.protocol() != corev3::SocketAddress::TCP) return invalid(ew, "only TCP is supported");
      if (sa.port_specifier_case() != corev3::SocketAddress::kPortValue) {
        return invalid(ew, "needs port_value");
      }
      Endpoint ep;
      ep.address = sa.address();
      ep.port = sa.port_value();
      if (ep.address.empty()) return invalid(ew, "empty address");
      ep.weight = lbe.has_load_balancing_weight() ? lbe.load_balancing_weight().value() : 1;
      if (ep.weight == 0) return invalid(ew, "load_balancing_weight must be >= 1");
      ep.health = healthOf(lbe.health_status());
      ep.locality = loc;
      ep.localityWeight = locality.has_load_balancing_weight() ? locality.load_balancing_weight().value() : 0;
      ep.priority = locality.priority();
      ep.requiresTls = out.tls != nullptr;
      for (int m = 0; m < c.transport_socket_matches_size(); ++m) {
        if (metadataMatches(c.transport_socket_matches(m).match(), lbe.metadata())) {
          ep.requiresTls = matchTls[static_cast<size_t>(m)] != nullptr;
          out.endpointTls[ep.key()] = matchTls[static_cast<size_t>(m)];
          break;
        }
      }
      if (auto istio = lbe.metadata().filter_metadata().find("istio"); istio != lbe.metadata().filter_metadata().end()) {
        auto w = istio->second.fields().find("workload");
        if (w != istio->second.fields().end() && w->second.has_string_value())
          ep.workload = std::make_shared<const telemetry::PeerInfo>(telemetry::peerFromWorkloadMetadata(w->second.string_value()));
      }
      out.endpoints.push_back(std::move(ep));
    }
  }
  return {};
}

// common_http_protocol_options (the cluster's deprecated field or HttpProtocolOptions'):
// max_requests_per_connection, idle_timeout (0: never), max_connection_duration (0: none).
Result<void> applyCommonHttpOptions(const corev3::HttpProtocolOptions& common, Cluster& out, const std::string& where) {
  if (common.has_max_requests_per_connection()) out.maxRequestsPerConnection = common.max_requests_per_connection().value();
  if (common.has_idle_timeout()) out.poolIdleTimeout = toMillis(common.idle_timeout());
  if (common.has_max_connection_duration()) {
    Millis d = toMillis(common.max_connection_duration());
    if (d.count() > 0) out.maxConnectionDuration = d;
    else out.maxConnectionDuration.reset();
  }
  if (out.poolIdleTimeout.count() < 0) return invalid(where + ".idle_timeout", "must be >= 0");
  return {};
}

// Linux takes TCP_KEEPCNT 1-127 and TCP_KEEPIDLE / TCP_KEEPINTVL 1-32767 s: anything else
// would fail every connect, so it is refused here once.
Result<void> compileKeepalive(const corev3::TcpKeepalive& k, Cluster& out, const std::string& where) {
  TcpKeepaliveConfig cfg;
  if (k.has_keepalive_probes()) cfg.probes = k.keepalive_probes().value();
  if (k.has_keepalive_time()) cfg.timeSeconds = k.keepalive_time().value();
  if (k.has_keepalive_interval()) cfg.intervalSeconds = k.keepalive_interval().value();
  if (cfg.probes && (*cfg.probes < 1 || *cfg.probes > 127)) return invalid(where + ".keepalive_probes", "must be 1-127");
  if (cfg.timeSeconds && (*cfg.timeSeconds < 1 || *cfg.timeSeconds > 32767)) {
    return invalid(where + ".keepalive_time", "must be 1-32767 seconds");
  }
  if (cfg.intervalSeconds && (*cfg.intervalSeconds < 1 || *cfg.intervalSeconds > 32767)) {
    return invalid(where + ".keepalive_interval", "must be 1-32767 seconds");
  }
  out.tcpKeepalive = cfg;
  return {};
}

}  // namespace

Result<std::shared_ptr<const Cluster>> compileCluster(const cv3::Cluster& c,
                                                      const ev3::ClusterLoadAssignment* eds) {
  auto out = std::make_shared<Cluster>();
  out->name = c.name();
  out->service = serviceOf(c);
  if (auto istio = c.metadata().filter_metadata().find("istio"); istio != c.metadata().filter_metadata().end()) {
    auto o = istio->second.fields().find("alpn_override");
    out->istioAlpnOverride = o == istio->second.fields().end() || o->second.string_value() != "false";
  }
  std::string where = "Cluster " + c.name();
  if (c.name().empty()) return invalid("Cluster", "empty name");
  if (c.has_cluster_type()) {
    return invalid(where + ".cluster_type", "custom cluster type " + c.cluster_type().name() +
                                                " is not supported");
  }
  switch (c.type()) {
    case cv3::Cluster::STATIC: out->type = ClusterType::Static; break;
    case cv3::Cluster::STRICT_DNS: out->type = ClusterType::StrictDns; break;
    case cv3::Cluster::LOGICAL_DNS: out->type = ClusterType::LogicalDns; break;
    case cv3::Cluster::EDS: out->type = ClusterType::Eds; break;
    case cv3::Cluster::ORIGINAL_DST: out->type = ClusterType::OriginalDst; break;
    default: return invalid(where + ".type", "unknown discovery type");
  }
  switch (c.lb_policy()) {
    case cv3::Cluster::ROUND_ROBIN: out->lbPolicy = LbPolicy::RoundRobin; break;
    case cv3::Cluster::LEAST_REQUEST: out->lbPolicy = LbPolicy::LeastRequest; break;
    case cv3::Cluster::RANDOM: out->lbPolicy = LbPolicy::Random; break;
    case cv3::Cluster::RING_HASH: out->lbPolicy = LbPolicy::RingHash; break;
    case cv3::Cluster::MAGLEV: out->lbPolicy = LbPolicy::Maglev; break;
    case cv3::Cluster::CLUSTER_PROVIDED:
      if (out->type == ClusterType::OriginalDst) break;
      return invalid(where + ".lb_policy", "CLUSTER_PROVIDED needs an ORIGINAL_DST cluster");
    default: return invalid(where + ".lb_policy", "not supported (load_balancing_policy)");
  }
  if (c.has_load_balancing_policy()) {
    return invalid(where + ".load_balancing_policy", "typed load balancing policies are not supported");
  }
  if (c.has_connect_timeout()) out->connectTimeout = toMillis(c.connect_timeout());
  if (out->connectTimeout.count() <= 0) return invalid(where + ".connect_timeout", "must be > 0");
  for (const auto& t : c.circuit_breakers().thresholds()) {
    if (t.priority() != corev3::DEFAULT) continue;  // HIGH priority routes are not used
    if (t.has_max_connections()) out->circuitBreakers.maxConnections = t.max_connections().value();
    if (t.has_max_pending_requests()) out->circuitBreakers.maxPendingRequests = t.max_pending_requests().value();
    if (t.has_max_requests()) out->circuitBreakers.maxRequests = t.max_requests().value();
    if (t.has_max_retries()) out->circuitBreakers.maxRetries = t.max_retries().value();
  }
  if (c.has_outlier_detection()) {
    const auto& od = c.outlier_detection();
    OutlierDetectionConfig o;
    if (od.has_consecutive_5xx()) o.consecutive5xx = od.consecutive_5xx().value();
    if (od.has_enforcing_consecutive_5xx()) o.enforcingConsecutive5xx = od.enforcing_consecutive_5xx().value();
    if (od.has_consecutive_gateway_failure()) o.consecutiveGatewayFailure = od.consecutive_gateway_failure().value();
    if (od.has_enforcing_consecutive_gateway_failure()) {
      o.enforcingConsecutiveGatewayFailure = od.enforcing_consecutive_gateway_failure().value();
    }
    if (od.has_interval()) o.interval = toMillis(od.interval());
    if (od.has_base_ejection_time()) o.baseEjectionTime = toMillis(od.base_ejection_time());
    if (od.has_max_ejection_time()) o.maxEjectionTime = toMillis(od.max_ejection_time());
    if (od.has_max_ejection_percent()) o.maxEjectionPercent = od.max_ejection_percent().value();
    if (o.interval.count() <= 0) return invalid(where + ".outlier_detection.interval", "must be > 0");
    if (o.maxEjectionPercent > 100) {
      return invalid(where + ".outlier_detection.max_ejection_percent", "must be <= 100");
    }
    out->outlierDetection = o;
  }
  if (c.common_lb_config().has_healthy_panic_threshold()) {
    out->healthyPanicThresholdPercent =
        static_cast<uint32_t>(c.common_lb_config().healthy_panic_threshold().value());
  }
  // Localities weighted within a priority (Envoy supports it for all but ring hash and maglev).
  out->localityWeightedLb = c.common_lb_config().has_locality_weighted_lb_config();
  if (c.has_dns_refresh_rate()) {
    out->dnsRefreshRate = toMillis(c.dns_refresh_rate());
    if (out->dnsRefreshRate.count() < 1) return invalid(where + ".dns_refresh_rate", "must be >= 1ms");
  }
  switch (c.dns_lookup_family()) {
    case cv3::Cluster::AUTO: out->dnsLookupFamily = DnsLookupFamily::Auto; break;
    case cv3::Cluster::V4_ONLY: out->dnsLookupFamily = DnsLookupFamily::V4Only; break;
    case cv3::Cluster::V6_ONLY: out->dnsLookupFamily = DnsLookupFamily::V6Only; break;
    case cv3::Cluster::V4_PREFERRED: out->dnsLookupFamily = DnsLookupFamily::V4Preferred; break;
    case cv3::Cluster::ALL: out->dnsLookupFamily = DnsLookupFamily::All; break;
    default: return invalid(where + ".dns_lookup_family", "unknown lookup family");
  }
  if (c.has_ring_hash_lb_config()) {
    const auto& r = c.ring_hash_lb_config();
    if (r.has_minimum_ring_size()) out->ringHashMinSize = r.minimum_ring_size().value();
    if (r.has_maximum_ring_size()) out->ringHashMaxSize = r.maximum_ring_size().value();
    if (out->ringHashMinSize > out->ringHashMaxSize || out->ringHashMaxSize > 8 * 1024 * 1024) {
      return invalid(where + ".ring_hash_lb_config", "ring sizes out of range");
    }
  }
  if (c.has_least_request_lb_config() && c.least_request_lb_config().has_choice_count()) {
    out->leastRequestChoiceCount = std::max<uint32_t>(2, c.least_request_lb_config().choice_count().value());
  }
  if (c.has_max_requests_per_connection()) {
    out->maxRequestsPerConnection = c.max_requests_per_connection().value();
  }
  if (c.has_common_http_protocol_options()) {
    auto common = applyCommonHttpOptions(c.common_http_protocol_options(), *out, where + ".common_http_protocol_options");
    if (!common) return Failure(common.error());
  }
  if (c.upstream_connection_options().has_tcp_keepalive()) {
    auto ka = compileKeepalive(c.upstream_connection_options().tcp_keepalive(), *out,
                               where + ".upstream_connection_options.tcp_keepalive");
    if (!ka) return Failure(ka.error());
  }
  // Upstream HTTP/2: the deprecated field, or HttpProtocolOptions' explicit_http_config (how
  // meshd marks gRPC and HTTP/2 ports).
  if (c.has_http2_protocol_options()) {
    auto http2 = compileHttp2Options(c.http2_protocol_options(), where + ".http2_protocol_options");
    if (!http2) return Failure(http2.error());
    out->http2 = *http2;
  }
  out->http1Trailers = c.http_protocol_options().enable_trailers();
  auto ext = c.typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  if (ext != c.typed_extension_protocol_options().end()) {
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
    std::string ew = where + ".typed_extension_protocol_options[HttpProtocolOptions]";
    if (!ext->second.UnpackTo(&http)) return invalid(ew, "does not unpack as HttpProtocolOptions");
    if (http.has_explicit_http_config() && http.explicit_http_config().has_http2_protocol_options()) {
      auto http2 = compileHttp2Options(http.explicit_http_config().http2_protocol_options(),
                                       ew + ".explicit_http_config.http2_protocol_options");
      if (!http2) return Failure(http2.error());
      out->http2 = *http2;
    }
    // enable_trailers of the HTTP/1 options, in whichever protocol config carries them.
    if (http.has_explicit_http_config() && http.explicit_http_config().has_http_protocol_options()) {
      out->http1Trailers = http.explicit_http_config().http_protocol_options().enable_trailers();
    } else if (http.has_use_downstream_protocol_config()) {
      out->http1Trailers = http.use_downstream_protocol_config().http_protocol_options().enable_trailers();
    } else if (http.has_auto_config()) {
      out->http1Trailers = http.auto_config().http_protocol_options().enable_trailers();
    }
    // Either codec per request: the client's (use_downstream_protocol_config) or ALPN's choice.
    if (http.has_use_downstream_protocol_config() || http.has_auto_config()) {
      bool downstream = http.has_use_downstream_protocol_config();
      out->protocolSelection = downstream ? Cluster::ProtocolSelection::Downstream : Cluster::ProtocolSelection::Alpn;
      const auto& h2 = downstream ? http.use_downstream_protocol_config().http2_protocol_options()
                                  : http.auto_config().http2_protocol_options();
      auto http2 = compileHttp2Options(h2, ew + (downstream ? ".use_downstream_protocol_config" : ".auto_config") +
                                               ".http2_protocol_options");
      if (!http2) return Failure(http2.error());
      out->selectableHttp2 = *http2;
    }
    auto common = applyCommonHttpOptions(http.common_http_protocol_options(), *out, ew + ".common_http_protocol_options");
    if (!common) return Failure(common.error());
  }
  if (c.has_original_dst_lb_config()) {
    out->originalDstUseHttpHeader = c.original_dst_lb_config().use_http_header();
    if (!c.original_dst_lb_config().http_header_name().empty()) {
      out->originalDstHttpHeader = lower(c.original_dst_lb_config().http_header_name());
    }
  }
  if (c.has_transport_socket()) {
    SocketKind k = socketKind(c.transport_socket());
    if (k == SocketKind::Unknown) {
      return invalid(where + ".transport_socket", "transport socket " + c.transport_socket().name() +
                                                      " is not supported");
    }
    if (k == SocketKind::Tls) {
      auto tls = compileUpstreamTls(c.transport_socket(), where + ".transport_socket");
      if (!tls) return Failure(tls.error());
      out->tls = *tls;
    }
  }
  std::vector<std::shared_ptr<const UpstreamTlsConfig>> matchTls;
  for (const auto& m : c.transport_socket_matches()) {
    std::string mw = where + ".transport_socket_matches[" + m.name() + "]";
    SocketKind k = socketKind(m.transport_socket());
    if (k == SocketKind::Unknown) {
      return invalid(mw, "transport socket " + m.transport_socket().name() + " is not supported");
    }
    matchTls.emplace_back();
    if (k == SocketKind::Tls) {
      auto tls = compileUpstreamTls(m.transport_socket(), mw + ".transport_socket");
      if (!tls) return Failure(tls.error());
      matchTls.back() = *tls;
    }
  }
  // As Envoy: auto_config needs ALPN, so TLS on the cluster's socket and every match's.
  if (out->protocolSelection == Cluster::ProtocolSelection::Alpn &&
      (!out->tls || std::ranges::any_of(matchTls, [](const auto& t) { return t == nullptr; }))) {
    return invalid(where, "ALPN configured for cluster " + c.name() + " which has a non-ALPN transport socket");
  }
  if (out->type == ClusterType::Eds) {
    if (eds != nullptr) {
      auto added = addEndpoints(*eds, c, matchTls, *out, "ClusterLoadAssignment " + eds->cluster_name());
      if (!added) return Failure(added.error());
    }
  } else if (out->type != ClusterType::OriginalDst) {
    auto added = addEndpoints(c.load_assignment(), c, matchTls, *out, where + ".load_assignment");
    if (!added) return Failure(added.error());
    if (out->type == ClusterType::LogicalDns && out->endpoints.size() != 1) {
      return invalid(where + ".load_assignment", "LOGICAL_DNS needs exactly one endpoint");
    }
  }
  return std::shared_ptr<const Cluster>(std::move(out));
}

}  // namespace mesh::proxy::dataplane
