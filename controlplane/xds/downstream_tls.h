// Server-side TLS contexts for listeners: mesh mTLS on a sidecar's inbound chains (workload
// certificate "default" and trust root "ROOTCA" over SDS on the ADS stream, client certificate
// required), and a Gateway server's `tls` block (SIMPLE, MUTUAL, ISTIO_MUTUAL; credentialName
// as "kubernetes://<name>" SDS secrets), as Istio's BuildListenerTLSContext lays them out.
// Stateless; any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/yaml/node.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace mesh::xds {

// Mesh mTLS for inbound chains. HTTP chains negotiate h2/http1.1; TCP chains also offer
// istio-peer-exchange for metadata exchange (Istio's ALPNDownstreamWithMxc).
envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext meshMtlsContext(bool http);

// A Gateway server's TLS termination. `tcpServer`: a TLS server terminating for tcp_proxy (its
// ISTIO_MUTUAL ALPN also offers istio-peer-exchange).
envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext gatewayServerTlsContext(const core::Node* tls,
                                                                                           bool tcpServer);

// Istio's credentials.ToResourceName: "name" → "kubernetes://name", "builtin://..." → the
// proxy's own certificate ("default"), other URIs ("kubernetes-gateway://...") as they are.
std::string credentialResourceName(std::string_view credentialName);

}  // namespace mesh::xds
