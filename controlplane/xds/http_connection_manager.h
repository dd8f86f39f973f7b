// The HTTP connection manager every HTTP filter chain ends with, built as Istio's
// buildHTTPConnectionManager does for its three listener classes (sidecar outbound, sidecar
// inbound, gateway): codec, stat prefix, RDS over ADS or an inline route table, websocket
// upgrades, client-certificate forwarding, and the HTTP filter chain (security filters first,
// router last). Stateless; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace mesh::xds {

enum class ListenerClass { SidecarOutbound, SidecarInbound, Gateway };

struct HcmOptions {
  ListenerClass listenerClass = ListenerClass::SidecarOutbound;
  std::string statPrefix;
  // RDS route name ("8080", "http.8080", "https.443.https.gw.ns"); when empty, `routeConfig`
  // is sent inline (inbound chains).
  std::string rds;
  std::optional<envoy::config::route::v3::RouteConfiguration> routeConfig;
  // Filters that run before everything else (jwt_authn, RBAC, ext_authz), in order.
  std::vector<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> securityFilters;
  bool grpcWeb = false;  // the port speaks gRPC-Web: Istio adds envoy.filters.http.grpc_web
  bool http2 = false;    // inbound HTTP/2 and gRPC ports accept HTTP/2 options
};

envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager buildHttpConnectionManager(
    const HcmOptions& options);
// The same, as the network filter a chain carries.
envoy::config::listener::v3::Filter httpConnectionManagerFilter(const HcmOptions& options);

// Istio's inline inbound route table: one virtual host "inbound|http|<port>" for every domain,
// one route "default" to `cluster` with no timeout. The table is named after the cluster.
envoy::config::route::v3::RouteConfiguration inboundRouteConfig(const std::string& cluster, uint32_t servicePort,
                                                                const std::string& traceOperation);

}  // namespace mesh::xds
