// RDS for Envoy proxies, as Istio lays it out (pilot/pkg/networking/core/httproute.go):
// - sidecars: one RouteConfiguration per outbound HTTP port, named by the port ("8080"), with a
//   virtual host per visible service on that port plus the catch-all "allow_any" (or
//   "block_all" under a Sidecar's REGISTRY_ONLY policy); "host:port" names (listeners that sniff
//   the protocol) get that service's virtual host alone, for every domain;
// - gateways: one per Gateway server RDS name ("http.80", "https.443.https.gw.ns"), with a
//   virtual host "host:port" per host shared by a server and a VirtualService bound to it.
// Stateless; any thread (memoized per Sidecar scope through the view's cache).
#pragma once

#include <string_view>

#include "controlplane/xds/generator.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::xds {

class RouteGenerator final : public Generator {
 public:
  std::string_view typeUrl() const override { return type_url::kRoute; }
  // Every route config the proxy has when `names` is a wildcard; otherwise each requested name,
  // an empty configuration for names that mean nothing here (Envoy would otherwise wait).
  XdsResources generate(const ProxyView& view, const ResourceNames& names) const override;
};

// One sidecar route configuration by its RDS name ("8080" or "host:8080").
envoy::config::route::v3::RouteConfiguration buildSidecarRouteConfig(const ProxyView& view, std::string_view name);

// One gateway route configuration by its RDS name (see GatewayServer::routeName). A name no
// server of the proxy's gateways uses gives an empty configuration, as Istio does while a
// deleted Gateway's listeners drain.
envoy::config::route::v3::RouteConfiguration buildGatewayRouteConfig(const ProxyView& view, std::string_view name);

}  // namespace mesh::xds
