#include "controlplane/xds/traffic_policy.h"

#include <limits>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/locality_lb.h"
#include "controlplane/xds/proto_util.h"
#include "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::config::cluster::v3::Cluster;
using model::items;
using model::text;
using model::uint32At;

constexpr uint32_t kUnlimited = std::numeric_limits<uint32_t>::max();

// Istio's connection pool numbers apply only when > 0 (0 cannot be told from unset).
std::optional<uint32_t> positiveAt(const Node* map, std::string_view key) {
  auto n = uint32At(map, key);
  return n && *n > 0 ? n : std::nullopt;
}

// Port-level settings of one policy level override that level's sections for the port.
void overlay(EffectivePolicy& out, const Node* policy, uint32_t port) {
  if (!policy) return;
  if (const Node* n = policy->get("loadBalancer")) out.loadBalancer = n;
  if (const Node* n = policy->get("connectionPool")) out.connectionPool = n;
  if (const Node* n = policy->get("outlierDetection")) out.outlierDetection = n;
  if (const Node* n = policy->get("tls")) out.tls = n;
  for (const Node* pls : items(policy->get("portLevelSettings"))) {
    const Node* p = pls->get("port");
    if (!p || model::uint32At(p, "number") != port) continue;
    if (const Node* n = pls->get("loadBalancer")) out.loadBalancer = n;
    if (const Node* n = pls->get("connectionPool")) out.connectionPool = n;
    if (const Node* n = pls->get("outlierDetection")) out.outlierDetection = n;
    if (const Node* n = pls->get("tls")) out.tls = n;
  }
}

const Node* subsetNode(const core::Resource* dr, std::string_view subset) {
  if (!dr || subset.empty() || !dr->spec()) return nullptr;
  for (const Node* s : items(dr->spec()->get("subsets")))
    if (text(s, "name") == subset) return s;
  return nullptr;
}

void applyLoadBalancer(Cluster& c, const Node* lb, const ClusterPolicyOptions& o) {
  c.set_lb_policy(Cluster::ROUND_ROBIN);
  if (!lb) return;
  std::string_view simple = text(lb, "simple");
  if (simple == "LEAST_REQUEST" || simple == "LEAST_CONN") c.set_lb_policy(Cluster::LEAST_REQUEST);
  else if (simple == "RANDOM") c.set_lb_policy(Cluster::RANDOM);
  else if (simple == "PASSTHROUGH") {
    c.set_lb_policy(Cluster::CLUSTER_PROVIDED);
    c.set_type(Cluster::ORIGINAL_DST);
    c.clear_eds_cluster_config();
  }
  if (const Node* ch = lb->get("consistentHash")) {
    // The hash key itself goes on the route (RDS); the cluster picks the ring.
    if (ch->get("maglev")) {
      c.set_lb_policy(Cluster::MAGLEV);
    } else {
      c.set_lb_policy(Cluster::RING_HASH);
      uint64_t minRing = 1024;
      if (const Node* rh = ch->get("ringHash")) {
        if (auto n = model::numberAt(rh, "minimumRingSize")) minRing = static_cast<uint64_t>(*n);
      } else if (auto n = model::numberAt(ch, "minimumRingSize")) {
        minRing = static_cast<uint64_t>(*n);
      }
      c.mutable_ring_hash_lb_config()->mutable_minimum_ring_size()->set_value(minRing);
    }
  }
  if (o.forGrpcClient && c.lb_policy() != Cluster::RING_HASH) c.set_lb_policy(Cluster::ROUND_ROBIN);
}

void applyConnectionPool(Cluster& c, const Node* pool, const ClusterPolicyOptions& o) {
  auto* t = c.mutable_circuit_breakers()->add_thresholds();
  // Istio's defaults: effectively unlimited, with remaining-capacity tracking for stats.
  t->mutable_max_connections()->set_value(kUnlimited);
  t->mutable_max_pending_requests()->set_value(kUnlimited);
  t->mutable_max_requests()->set_value(kUnlimited);
  t->mutable_max_retries()->set_value(kUnlimited);
  t->set_track_remaining(true);
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
  bool httpSet = false;
  std::optional<uint32_t> maxStreams;
  if (pool) {
    const Node* tcp = pool->get("tcp");
    if (auto n = positiveAt(tcp, "maxConnections")) t->mutable_max_connections()->set_value(*n);
    setDurationFrom(*c.mutable_connect_timeout(), tcp, "connectTimeout");
    if (const Node* ka = tcp ? tcp->get("tcpKeepalive") : nullptr) {
      auto* k = c.mutable_upstream_connection_options()->mutable_tcp_keepalive();
      if (auto n = positiveAt(ka, "probes")) k->mutable_keepalive_probes()->set_value(*n);
      if (auto ns = durationNanosAt(ka, "time")) k->mutable_keepalive_time()->set_value(static_cast<uint32_t>(*ns / 1000000000));
      if (auto ns = durationNanosAt(ka, "interval"))
        k->mutable_keepalive_interval()->set_value(static_cast<uint32_t>(*ns / 1000000000));
    }
    if (auto ns = durationNanosAt(tcp, "maxConnectionDuration")) {
      setDuration(*http.mutable_common_http_protocol_options()->mutable_max_connection_duration(), *ns);
      httpSet = true;
    }
    const Node* h = pool->get("http");
    if (auto n = positiveAt(h, "http1MaxPendingRequests")) t->mutable_max_pending_requests()->set_value(*n);
    if (auto n = positiveAt(h, "http2MaxRequests")) t->mutable_max_requests()->set_value(*n);
    if (auto n = positiveAt(h, "maxRetries")) t->mutable_max_retries()->set_value(*n);
    if (auto n = positiveAt(h, "maxRequestsPerConnection")) {
      http.mutable_common_http_protocol_options()->mutable_max_requests_per_connection()->set_value(*n);
      httpSet = true;
    }
    // Istio: the HTTP idle timeout, else the TCP one, closes idle pooled connections.
    auto idleNs = durationNanosAt(h, "idleTimeout");
    if (!idleNs) idleNs = durationNanosAt(tcp, "idleTimeout");
    if (idleNs) {
      setDuration(*http.mutable_common_http_protocol_options()->mutable_idle_timeout(), *idleNs);
      httpSet = true;
    }
    maxStreams = positiveAt(h, "maxConcurrentStreams");
    if (text(h, "h2UpgradePolicy") == "UPGRADE" && !http.has_explicit_http_config()) {
      http.mutable_explicit_http_config()->mutable_http2_protocol_options();
      httpSet = true;
    }
  }
  if (o.http2 && !http.has_explicit_http_config()) {
    http.mutable_explicit_http_config()->mutable_http2_protocol_options();
    httpSet = true;
  }
  // Istio's setUseDownstreamProtocol (outbound clusters: meshd's inbound ones take no rule):
  // the client's protocol goes upstream; an explicit config's HTTP/1 options are kept, its
  // HTTP/2 options (max_concurrent_streams) are not, as in Istio.
  if (pool && model::boolAt(pool->get("http"), "useClientProtocol").value_or(false)) {
    envoy::config::core::v3::Http1ProtocolOptions http1 = http.explicit_http_config().http_protocol_options();
    auto* downstream = http.mutable_use_downstream_protocol_config();  // replaces explicit_http_config
    *downstream->mutable_http_protocol_options() = std::move(http1);
    downstream->mutable_http2_protocol_options();
    httpSet = true;
  }
  // As Istio: only for clusters that speak HTTP/2 (it never upgrades one to HTTP/2).
  if (maxStreams && http.explicit_http_config().has_http2_protocol_options())
    http.mutable_explicit_http_config()->mutable_http2_protocol_options()->mutable_max_concurrent_streams()->set_value(*maxStreams);
  if (httpSet && !o.forGrpcClient)
    (*c.mutable_typed_extension_protocol_options())["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] = pack(http);
  if (o.forGrpcClient) c.clear_circuit_breakers();
  if (o.forGrpcClient && pool) {
    // gRPC reads only max_requests from circuit breakers.
    if (auto n = uint32At(pool->get("http"), "http2MaxRequests"))
      c.mutable_circuit_breakers()->add_thresholds()->mutable_max_requests()->set_value(*n);
  }
}

void applyOutlierDetection(Cluster& c, const Node* od, const ClusterPolicyOptions& o) {
  if (!od) return;
  auto* out = c.mutable_outlier_detection();
  // Istio: consecutive5xxErrors maps to consecutive_5xx, enforced only when set; the deprecated
  // consecutiveErrors means gateway errors.
  std::optional<uint32_t> c5xx = uint32At(od, "consecutive5xxErrors");
  std::optional<uint32_t> gw = uint32At(od, "consecutiveGatewayErrors");
  if (!gw) gw = uint32At(od, "consecutiveErrors");
  if (o.forGrpcClient) {
    // gRPC implements failure-percentage and success-rate ejection, not consecutive counts:
    // eject any host failing most requests, with explicit success-rate fields (grpc-js needs them).
    out->mutable_failure_percentage_threshold()->set_value(50);
    out->mutable_enforcing_failure_percentage()->set_value(c5xx || gw ? 100 : 0);
    out->mutable_failure_percentage_minimum_hosts()->set_value(1);
    out->mutable_failure_percentage_request_volume()->set_value(std::max<uint32_t>(c5xx.value_or(gw.value_or(5)), 1));
    out->mutable_enforcing_success_rate()->set_value(0);
    out->mutable_success_rate_minimum_hosts()->set_value(5);
    out->mutable_success_rate_request_volume()->set_value(100);
    out->mutable_success_rate_stdev_factor()->set_value(1900);
  } else {
    if (c5xx) {
      out->mutable_consecutive_5xx()->set_value(*c5xx);
      out->mutable_enforcing_consecutive_5xx()->set_value(*c5xx > 0 ? 100 : 0);
    } else {
      out->mutable_enforcing_consecutive_5xx()->set_value(0);
    }
    if (gw) {
      out->mutable_consecutive_gateway_failure()->set_value(*gw);
      out->mutable_enforcing_consecutive_gateway_failure()->set_value(*gw > 0 ? 100 : 0);
    }
    out->mutable_enforcing_success_rate()->set_value(0);
    if (auto split = model::boolAt(od, "splitExternalLocalOriginErrors")) {
      out->set_split_external_local_origin_errors(*split);
      if (auto n = uint32At(od, "consecutiveLocalOriginFailures")) out->mutable_consecutive_local_origin_failure()->set_value(*n);
    }
  }
  setDurationFrom(*out->mutable_interval(), od, "interval");
  setDurationFrom(*out->mutable_base_ejection_time(), od, "baseEjectionTime");
  if (auto n = model::numberAt(od, "maxEjectionPercent")) out->mutable_max_ejection_percent()->set_value(static_cast<uint32_t>(*n));
  if (auto n = model::numberAt(od, "minHealthPercent"); n && !o.forGrpcClient)
    c.mutable_common_lb_config()->mutable_healthy_panic_threshold()->set_value(*n);
}

// Istio's IsHttp2Cluster: the cluster's HttpProtocolOptions speak HTTP/2 (set by
// applyConnectionPool before TLS).
bool speaksHttp2(const Cluster& c) {
  auto it = c.typed_extension_protocol_options().find("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  if (it == c.typed_extension_protocol_options().end()) return false;
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
  return it->second.UnpackTo(&http) && http.explicit_http_config().has_http2_protocol_options();
}

// Mesh mTLS with the workload certificate and root from SDS over the same ADS stream, as
// Istio names them; the server must hold one of the service's identities. ALPN as Istio's
// ALPNInMeshWithMxc, plus "h2" for HTTP/2 clusters (ALPNInMeshH2WithMxc).
envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext istioMutualContext(const ClusterPolicyOptions& o,
                                                                                     std::string_view sni, bool http2) {
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext ctx;
  auto* common = ctx.mutable_common_tls_context();
  auto* cert = common->add_tls_certificate_sds_secret_configs();
  cert->set_name("default");
  cert->mutable_sds_config()->mutable_ads();
  cert->mutable_sds_config()->set_resource_api_version(envoy::config::core::v3::V3);
  auto* combined = common->mutable_combined_validation_context();
  for (const std::string& san : o.subjectAltNames) {
    auto* m = combined->mutable_default_validation_context()->add_match_typed_subject_alt_names();
    m->set_san_type(envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::URI);
    m->mutable_matcher()->set_exact(san);
  }
  auto* root = combined->mutable_validation_context_sds_secret_config();
  root->set_name("ROOTCA");
  root->mutable_sds_config()->mutable_ads();
  root->mutable_sds_config()->set_resource_api_version(envoy::config::core::v3::V3);
  common->add_alpn_protocols("istio-peer-exchange");
  common->add_alpn_protocols("istio");
  if (http2) common->add_alpn_protocols("h2");
  // Istio's SNI for mesh mTLS names the exact destination cluster.
  ctx.set_sni(sni.empty() ? fmt::format("outbound_.{}_.{}_.{}", o.port, o.subset, o.host) : std::string(sni));
  return ctx;
}

// Istio's auto mTLS: endpoints labelled tlsMode "istio" (they run a mesh proxy) get mesh mTLS,
// the others plain text, chosen per endpoint by transport_socket_matches.
void applyAutoMtls(Cluster& c, const ClusterPolicyOptions& o) {
  auto* istio = c.add_transport_socket_matches();
  istio->set_name("tlsMode-istio");
  (*istio->mutable_match()->mutable_fields())["tlsMode"].set_string_value("istio");
  istio->mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  *istio->mutable_transport_socket()->mutable_typed_config() = pack(istioMutualContext(o, "", speaksHttp2(c)));
  auto* plain = c.add_transport_socket_matches();
  plain->set_name("tlsMode-disabled");
  plain->mutable_match();
  plain->mutable_transport_socket()->set_name("envoy.transport_sockets.raw_buffer");
  *plain->mutable_transport_socket()->mutable_typed_config() =
      pack(envoy::extensions::transport_sockets::raw_buffer::v3::RawBuffer());
}

void applyTls(Cluster& c, const Node* tls, const ClusterPolicyOptions& o) {
  if (o.forGrpcClient) return;
  std::string_view mode = text(tls, "mode");
  if (!tls || mode.empty()) {
    if (o.autoMtls) applyAutoMtls(c, o);
    return;
  }
  if (mode == "DISABLE") return;
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext ctx;
  auto* common = ctx.mutable_common_tls_context();
  std::string_view sni = text(tls, "sni");
  if (mode == "ISTIO_MUTUAL") {
    ctx = istioMutualContext(o, sni, speaksHttp2(c));
  } else {
    std::string_view credential = text(tls, "credentialName");
    if (!credential.empty()) {
      auto* cert = common->add_tls_certificate_sds_secret_configs();
      cert->set_name(fmt::format("kubernetes://{}", credential));
      cert->mutable_sds_config()->mutable_ads();
      auto* root = common->mutable_combined_validation_context()->mutable_validation_context_sds_secret_config();
      root->set_name(fmt::format("kubernetes://{}-cacert", credential));
      root->mutable_sds_config()->mutable_ads();
      if (mode == "SIMPLE") common->clear_tls_certificate_sds_secret_configs();
    } else {
      if (mode == "MUTUAL") {
        auto* cert = common->add_tls_certificates();
        if (auto f = text(tls, "clientCertificate"); !f.empty()) cert->mutable_certificate_chain()->set_filename(std::string(f));
        if (auto f = text(tls, "privateKey"); !f.empty()) cert->mutable_private_key()->set_filename(std::string(f));
      }
      auto* vc = common->mutable_validation_context();
      if (auto f = text(tls, "caCertificates"); !f.empty()) vc->mutable_trusted_ca()->set_filename(std::string(f));
      for (const std::string& san : model::stringList(tls->get("subjectAltNames"))) {
        auto* m = vc->add_match_typed_subject_alt_names();
        m->set_san_type(envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::DNS);
        m->mutable_matcher()->set_exact(san);
      }
    }
    ctx.set_sni(sni.empty() ? std::string(o.host) : std::string(sni));
    if (speaksHttp2(c)) common->add_alpn_protocols("h2");  // Istio: ALPNH2Only for HTTP/2 clusters
  }
  auto* ts = c.mutable_transport_socket();
  ts->set_name("envoy.transport_sockets.tls");
  *ts->mutable_typed_config() = pack(ctx);
  // Istio's AddALPNOverrideToMetadata: the user's own TLS keeps its ALPN; istio.alpn skips it.
  if (mode == "SIMPLE" || mode == "MUTUAL") {
    auto& istio = (*c.mutable_metadata()->mutable_filter_metadata())["istio"];
    (*istio.mutable_fields())["alpn_override"].set_string_value("false");
  }
}

}  // namespace

EffectivePolicy effectivePolicy(const core::Resource* dr, uint32_t port, std::string_view subset) {
  EffectivePolicy out;
  if (!dr || !dr->spec()) return out;
  overlay(out, dr->spec()->get("trafficPolicy"), port);
  if (const Node* s = subsetNode(dr, subset)) overlay(out, s->get("trafficPolicy"), port);
  return out;
}

const Node* subsetLabels(const core::Resource* dr, std::string_view subset) {
  const Node* s = subsetNode(dr, subset);
  return s ? s->get("labels") : nullptr;
}

void applyTrafficPolicy(Cluster& cluster, const EffectivePolicy& policy, const ClusterPolicyOptions& options) {
  applyLoadBalancer(cluster, policy.loadBalancer, options);
  applyConnectionPool(cluster, policy.connectionPool, options);
  applyOutlierDetection(cluster, policy.outlierDetection, options);
  applyTls(cluster, policy.tls, options);
  // Istio's applyLocalityLoadBalancer on the cluster: locality weights for `distribute`, and
  // for failover rules once outlier detection can move traffic. gRPC's xDS client always
  // weighs localities, so its clusters go without.
  if (!options.forGrpcClient && wantsLocalityWeightedLbConfig(localityLbPolicy(policy, options.meshLocalityLbSetting)))
    cluster.mutable_common_lb_config()->mutable_locality_weighted_lb_config();
}

}  // namespace mesh::xds
