// Gateway servers merged per listener, as Istio's MergeGateways does for LDS: servers (from
// gateway_selection.h, shared with RDS) grouped by the port the gateway really listens on (a
// server port naming a port of the gateway's own Service becomes its targetPort) and bind
// address, HTTP servers on one listener sharing one HCM, TLS servers told apart by SNI,
// duplicate TLS hosts and protocol clashes dropped. Stateless; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/xds/gateway_selection.h"
#include "controlplane/xds/generator.h"
#include "core/resource.h"

namespace mesh::xds {

struct GatewayPort {
  uint32_t port = 0;     // the port the gateway listens on
  std::string bind;      // server.bind; "" for 0.0.0.0
  std::vector<GatewayServer> servers;
};

// Sorted by port then bind; servers in Gateway (namespace/name) then declaration order.
std::vector<GatewayPort> mergeGatewayServers(const ProxyView& view);

// The server's `tls` block; nullptr when it has none.
const core::Node* serverTls(const GatewayServer& s);
// PASSTHROUGH or AUTO_PASSTHROUGH: TLS forwarded by SNI, not terminated.
bool isPassthroughServer(const GatewayServer& s);
// Istio's IsTLSServer: a non-HTTP protocol with TLS settings.
bool isTlsServer(const GatewayServer& s);
// Istio's GetSNIHostsForServer: the hosts without their namespace, sorted and unique.
std::vector<std::string> serverSniHosts(const GatewayServer& s);

// Istio's pickMatchingGatewayHosts: whether a VirtualService's hosts meet the server's hosts
// ("ns/host" entries only for VirtualServices in that namespace; wildcards either way).
bool gatewayHostsMatch(const GatewayServer& server, const core::Resource& vs, std::string_view domain);

}  // namespace mesh::xds
