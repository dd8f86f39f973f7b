// Filter chain selection for an accepted connection, in Envoy's order: destination port,
// destination IP (longest prefix), server name (exact, then longest wildcard), transport
// protocol, application protocols, source IP, source port; at each step a specific match beats
// an empty criterion. No match: the listener's default_filter_chain (or none). Pure.
#pragma once

#include <string>
#include <vector>

#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

struct ConnectionInfo {
  std::string destinationAddress;  // the original destination
  uint32_t destinationPort = 0;
  std::string sourceAddress;
  uint32_t sourcePort = 0;
  std::string serverName;                       // SNI, lower case
  std::string transportProtocol = "raw_buffer";  // or "tls"
  std::vector<std::string> applicationProtocols;  // from http_inspector / ALPN
  // Set once a TLS handshake has verified the client's certificate: its first URI SAN
  // (e.g. "spiffe://cluster.local/ns/orders/sa/orders"), Envoy's authenticated principal.
  std::string peerPrincipal;
  std::string negotiatedAlpn;  // the TLS handshake's ALPN result, "" without TLS or ALPN
};

const FilterChain* selectFilterChain(const Listener& listener, const ConnectionInfo& conn);

}  // namespace mesh::proxy::dataplane
