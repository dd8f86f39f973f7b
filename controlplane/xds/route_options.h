// Options shared by every piece of HTTP route translation (VirtualService → Envoy routes):
// which client shape to produce (Envoy, or gRPC's proxyless xDS client), from which gateway's
// point of view, for which listener port. Plain values; owned by the caller.
#pragma once

#include <cstdint>
#include <string>

namespace mesh::xds {

enum class RouteFlavor {
  Envoy,          // full Envoy route API
  ProxylessGrpc,  // gRPC's xDS client: old header matcher fields, max_stream_duration, no redirects
};

struct VirtualHostOptions {
  RouteFlavor flavor = RouteFlavor::Envoy;
  // The gateway the routes are built for: "mesh" (sidecars, gRPC clients) or "ns/name" of an
  // Istio Gateway. Matches whose `gateways` list does not name it are dropped (Istio's
  // sourceMatchHTTP).
  std::string gateway = "mesh";
  // The port the route configuration serves: checked against `match.port`, used for
  // destinations without a port on multi-port services, and for redirect FROM_REQUEST_PORT.
  // 0 means "the service port" (buildVirtualHost fills it in).
  uint32_t listenPort = 0;
  // Routes are served behind TLS (gateway HTTPS servers): redirects default to "https".
  bool tls = false;
  // Add the "host:port" form of every domain (Istio does for gRPC clients and sidecars without
  // ignore_port_in_host_matching).
  bool portInDomains = true;
};

}  // namespace mesh::xds
