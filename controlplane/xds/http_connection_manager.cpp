#include "controlplane/xds/http_connection_manager.h"

#include <fmt/format.h>

#include "controlplane/xds/listener_common.h"
#include "controlplane/xds/proto_util.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/grpc_web/v3/grpc_web.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "istio/envoy/config/filter/http/alpn/v2alpha1/config.pb.h"

namespace mesh::xds {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter;

HttpFilter httpFilter(std::string_view name, const google::protobuf::Message& config) {
  HttpFilter f;
  f.set_name(std::string(name));
  *f.mutable_typed_config() = pack(config);
  return f;
}

// Istio's "istio.alpn" (PILOT_ENABLE_ALPN_FILTER, on by default): per upstream protocol, the ALPN
// offered on mesh mTLS connections instead of the cluster's "istio-peer-exchange,istio", so
// the peer's inbound listener picks its HTTP chain on ports of unknown protocol. The plain
// names come last for upstreams outside the mesh (Istio's mtlsHTTP*ALPN lists).
HttpFilter alpnFilter() {
  using AlpnConfig = istio::envoy::config::filter::http::alpn::v2alpha1::FilterConfig;
  AlpnConfig config;
  auto add = [&config](AlpnConfig::Protocol protocol, std::initializer_list<const char*> alpn) {
    auto* o = config.add_alpn_override();
    o->set_upstream_protocol(protocol);
    for (const char* a : alpn) o->add_alpn_override(a);
  };
  add(AlpnConfig::HTTP10, {"istio-http/1.0", "istio", "http/1.0"});
  add(AlpnConfig::HTTP11, {"istio-http/1.1", "istio", "http/1.1"});
  add(AlpnConfig::HTTP2, {"istio-h2", "istio", "h2"});
  return httpFilter("istio.alpn", config);
}

// Istio's HTTP filter order: security (authz custom, authn, authz), gRPC-Web, istio.alpn
// (all but sidecar inbound), fault and CORS (their per-route configs come from RDS), router
// last. Inbound chains carry no fault or CORS here: VirtualService fault injection and CORS
// policies are applied on the client side.
void addHttpFilters(HttpConnectionManager& hcm, const HcmOptions& o) {
  for (const HttpFilter& f : o.securityFilters) *hcm.add_http_filters() = f;
  if (o.grpcWeb)
    *hcm.add_http_filters() =
        httpFilter("envoy.filters.http.grpc_web", envoy::extensions::filters::http::grpc_web::v3::GrpcWeb());
  if (o.listenerClass != ListenerClass::SidecarInbound) {
    *hcm.add_http_filters() = alpnFilter();
    *hcm.add_http_filters() =
        httpFilter("envoy.filters.http.fault", envoy::extensions::filters::http::fault::v3::HTTPFault());
    *hcm.add_http_filters() = httpFilter("envoy.filters.http.cors", envoy::extensions::filters::http::cors::v3::Cors());
  }
  *hcm.add_http_filters() =
      httpFilter("envoy.filters.http.router", envoy::extensions::filters::http::router::v3::Router());
}

}  // namespace

HttpConnectionManager buildHttpConnectionManager(const HcmOptions& o) {
  HttpConnectionManager hcm;
  hcm.set_codec_type(HttpConnectionManager::AUTO);
  hcm.set_stat_prefix(o.statPrefix);
  hcm.set_server_name("istio-envoy");
  // Istio's default path normalization (BASE): RFC 3986 normalization, escaped slashes kept.
  hcm.mutable_normalize_path()->set_value(true);
  hcm.set_path_with_escaped_slashes_action(HttpConnectionManager::KEEP_UNCHANGED);
  hcm.add_upgrade_configs()->set_upgrade_type("websocket");
  setDuration(*hcm.mutable_stream_idle_timeout(), 0);
  if (!o.rds.empty()) {
    auto* rds = hcm.mutable_rds();
    rds->set_route_config_name(o.rds);
    auto* source = rds->mutable_config_source();
    source->mutable_ads();
    setDuration(*source->mutable_initial_fetch_timeout(), 0);
    source->set_resource_api_version(envoy::config::core::v3::V3);
  } else if (o.routeConfig) {
    *hcm.mutable_route_config() = *o.routeConfig;
  }
  switch (o.listenerClass) {
    case ListenerClass::SidecarOutbound:
      hcm.mutable_use_remote_address()->set_value(false);
      break;
    case ListenerClass::SidecarInbound: {
      // The peer's identity travels to the application in x-forwarded-client-cert.
      hcm.mutable_use_remote_address()->set_value(false);
      hcm.set_forward_client_cert_details(HttpConnectionManager::APPEND_FORWARD);
      auto* details = hcm.mutable_set_current_client_cert_details();
      details->mutable_subject()->set_value(true);
      details->set_dns(true);
      details->set_uri(true);
      if (o.http2) hcm.mutable_http2_protocol_options();
      break;
    }
    case ListenerClass::Gateway: {
      // The edge: the client address is the real one; client certificates are sanitized and
      // set from this connection (Istio's gatewayTopology defaults).
      hcm.mutable_use_remote_address()->set_value(true);
      hcm.set_forward_client_cert_details(HttpConnectionManager::SANITIZE_SET);
      auto* details = hcm.mutable_set_current_client_cert_details();
      details->mutable_subject()->set_value(true);
      details->set_cert(true);
      details->set_dns(true);
      details->set_uri(true);
      hcm.mutable_http_protocol_options();
      break;
    }
  }
  addHttpFilters(hcm, o);
  return hcm;
}

envoy::config::listener::v3::Filter httpConnectionManagerFilter(const HcmOptions& options) {
  return networkFilter(filter_name::kHttpConnectionManager, buildHttpConnectionManager(options));
}

envoy::config::route::v3::RouteConfiguration inboundRouteConfig(const std::string& cluster, uint32_t servicePort,
                                                                const std::string& traceOperation) {
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name(cluster);
  rc.mutable_validate_clusters()->set_value(false);
  auto* vh = rc.add_virtual_hosts();
  vh->set_name(fmt::format("inbound|http|{}", servicePort));
  vh->add_domains(std::string("*"));  // (a const char* overload trips gcc 12 -Wrestrict at -O3)
  auto* r = vh->add_routes();
  r->set_name("default");
  r->mutable_match()->set_prefix("/");
  auto* action = r->mutable_route();
  action->set_cluster(cluster);
  setDuration(*action->mutable_timeout(), 0);
  auto* msd = action->mutable_max_stream_duration();
  setDuration(*msd->mutable_max_stream_duration(), 0);
  setDuration(*msd->mutable_grpc_timeout_header_max(), 0);
  if (!traceOperation.empty()) r->mutable_decorator()->set_operation(traceOperation);
  return rc;
}

}  // namespace mesh::xds
