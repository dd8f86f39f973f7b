// Pieces every LDS builder shares (outbound, inbound, gateway): Istio's well-known listener and
// filter chain names, a filter chain described by its match (Istio's filterChainOpts) and its
// translation to Envoy, listener filters, addresses and the catch-all TCP filters. Owned by
// the listener generator; stateless, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "controlplane/xds/generator.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

namespace mesh::xds {

// Istio's listener names, ports and filter chain names (pilot/pkg/model/listener.go).
inline constexpr std::string_view kVirtualOutboundListener = "virtualOutbound";
inline constexpr std::string_view kVirtualInboundListener = "virtualInbound";
inline constexpr uint32_t kProxyOutboundPort = 15001;  // MeshConfig proxyListenPort
inline constexpr uint32_t kProxyInboundPort = 15006;   // MeshConfig proxyInboundListenPort
inline constexpr std::string_view kVirtualOutboundBlackholeChain = "virtualOutbound-blackhole";
inline constexpr std::string_view kVirtualOutboundCatchAllChain = "virtualOutbound-catchall-tcp";
inline constexpr std::string_view kVirtualInboundBlackholeChain = "virtualInbound-blackhole";
inline constexpr std::string_view kVirtualInboundCatchAllHttpChain = "virtualInbound-catchall-http";
inline constexpr std::string_view kPassthroughFilterChain = "PassthroughFilterChain";
inline constexpr std::string_view kWildcardAddress = "0.0.0.0";

// Envoy's well-known extension names, as Istio writes them.
namespace filter_name {
inline constexpr std::string_view kTcpProxy = "envoy.filters.network.tcp_proxy";
inline constexpr std::string_view kHttpConnectionManager = "envoy.filters.network.http_connection_manager";
inline constexpr std::string_view kOriginalDst = "envoy.filters.listener.original_dst";
inline constexpr std::string_view kTlsInspector = "envoy.filters.listener.tls_inspector";
inline constexpr std::string_view kHttpInspector = "envoy.filters.listener.http_inspector";
inline constexpr std::string_view kTlsTransportSocket = "envoy.transport_sockets.tls";
}  // namespace filter_name

// Transport protocols the TLS inspector sets, and the ALPN sets Istio matches on
// (pilot/pkg/networking/core/listener.go).
inline constexpr std::string_view kTlsTransport = "tls";
inline constexpr std::string_view kRawBufferTransport = "raw_buffer";
const std::vector<std::string>& plaintextHttpAlpns();  // http/1.1, h2c: set by the HTTP inspector
const std::vector<std::string>& mtlsHttpAlpns();       // istio-http/1.0, istio-http/1.1, istio-h2
const std::vector<std::string>& mtlsTcpAlpns();        // istio-peer-exchange, istio
const std::vector<std::string>& allIstioMtlsAlpns();   // every ALPN a mesh client sends

// "0.0.0.0_8080", "10.96.0.12_5432": Istio's listener and inbound chain names.
std::string listenerName(std::string_view bind, uint32_t port);

// One filter chain before it becomes Envoy config (Istio's filterChainOpts).
struct ChainSpec {
  std::string name;
  std::optional<uint32_t> destinationPort;
  std::vector<std::string> destinationCidrs;  // "10.0.0.0/16" or a bare IP
  std::vector<std::string> sniHosts;          // a "*" entry disables SNI matching
  std::string transportProtocol;
  std::vector<std::string> applicationProtocols;
  std::optional<envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext> tls;
  std::vector<envoy::config::listener::v3::Filter> filters;

  // Matches every connection: Istio makes such a chain the listener's default chain.
  bool matchesAll() const;
  // Needs the TLS inspector (SNI or ALPN negotiated by a terminating TLS context).
  bool needsTlsInspector() const;
};

envoy::config::listener::v3::FilterChain toFilterChain(const ChainSpec& spec);

// A network filter with a typed config.
envoy::config::listener::v3::Filter networkFilter(std::string_view name, const google::protobuf::Message& config);
envoy::config::listener::v3::ListenerFilter listenerFilter(std::string_view name,
                                                           const google::protobuf::Message& config);
envoy::config::listener::v3::ListenerFilter originalDstFilter();
envoy::config::listener::v3::ListenerFilter tlsInspectorFilter();
envoy::config::listener::v3::ListenerFilter httpInspectorFilter();

void setSocketAddress(envoy::config::core::v3::Address& out, std::string_view ip, uint32_t port);

// tcp_proxy straight to one cluster, stat prefix = the cluster (BlackHole, Passthrough, inbound).
envoy::config::listener::v3::Filter tcpProxyToCluster(std::string_view cluster);

// Where traffic to unknown destinations goes: the Sidecar's outboundTrafficPolicy REGISTRY_ONLY
// sends it to BlackHoleCluster; ALLOW_ANY to PassthroughCluster, or to its egressProxy.
std::string outboundCatchAllCluster(const ProxyView& view);

}  // namespace mesh::xds
