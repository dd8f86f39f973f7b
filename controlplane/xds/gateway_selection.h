// Which Istio Gateway servers a gateway proxy (ProxyType::Router) implements: every Gateway in
// any namespace whose spec.selector labels are all on the proxy (an empty selector selects every
// gateway proxy), as Istio's PushContext.mergeGateways finds them. Shared by the gateway
// listener (LDS) and route (RDS) generators, so both agree on servers and RDS names.
// Pure functions of the snapshot and proxy; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/protocol.h"

namespace mesh::xds {

struct ProxyView;

// One entry of a Gateway's spec.servers.
struct GatewayServer {
  const core::Resource* gateway = nullptr;
  const core::Node* server = nullptr;  // the spec.servers[i] node (tls, name, ... as written)
  uint32_t port = 0;                   // server.port.number
  std::string portName;                // server.port.name
  model::Protocol protocol = model::Protocol::Unsupported;  // server.port.protocol
  std::string bind;                    // server.bind; "" for all addresses
  // server.hosts with Istio's sanitizing: "./h" → "<gateway ns>/h", "*/h" → "h", "*/*" → "*".
  std::vector<std::string> hosts;
  std::string tlsMode;                 // server.tls.mode ("SIMPLE", "PASSTHROUGH", ...); "" without tls
  bool httpsRedirect = false;          // server.tls.httpsRedirect

  // "ns/name": how VirtualService.gateways and match.gateways name this server's Gateway.
  std::string gatewayName() const;
  // Istio's gatewayRDSRouteName: "http.<port>[.<bind>]" for HTTP-family servers,
  // "https.<port>.<portName>.<gateway>.<ns>[.<bind>]" for HTTPS servers that terminate TLS,
  // "" for servers without HTTP routes (TCP, TLS, HTTPS passthrough).
  std::string routeName() const;
  // Whether this server's traffic goes through an HTTP connection manager with RDS.
  bool servesHttp() const { return !routeName().empty(); }
};

// The servers of every Gateway selecting the proxy, ordered by gateway namespace/name then
// server order; empty for sidecars.
std::vector<GatewayServer> gatewaysFor(const model::ConfigSnapshot& snapshot, const model::Proxy& proxy);
std::vector<GatewayServer> gatewaysFor(const ProxyView& view);

// Whether a server host ("ns/host" or "host", sanitized as above) admits a VirtualService of
// namespace `vsNamespace`, and if so the host part ("ns/" stripped).
std::optional<std::string_view> serverHostFor(std::string_view serverHost, std::string_view vsNamespace);

}  // namespace mesh::xds
