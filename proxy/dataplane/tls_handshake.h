// TLS handshakes of the data plane's connections: a downstream connection whose filter chain
// has a DownstreamTlsContext, and an upstream connection to an endpoint with an
// UpstreamTlsContext. Contexts come from Engine::tlsContexts (cached, rebuilt on rotation).
// A failure ends only that connection. Worker thread only.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "proxy/dataplane/engine.h"

namespace mesh::proxy::dataplane {

inline constexpr std::chrono::seconds kTlsHandshakeTimeout{10};

// Server handshake on `ds` (SAN checks included); fills ds.tls and ds.info.peerPrincipal /
// negotiatedAlpn. False: the connection must close (secret not ready, handshake failed).
asio::awaitable<bool> acceptTls(Engine& engine, Worker& worker, Downstream& ds,
                                const std::shared_ptr<const DownstreamTlsConfig>& config);

// What an upstream connection offers by ALPN (Envoy's transport socket options): the
// context's list, replaced by istio.alpn's `override` when set; on HTTP/1.1 connections never
// "h2" (the pool speaks HTTP/1.1 whatever is negotiated, so it must not be offered); when the
// list ends up empty, Envoy's fallback for the codec ("http/1.1" or "h2"; none for TCP).
// `Auto` (auto_config: the server's choice decides the codec) keeps "h2" and falls back to
// "h2", "http/1.1".
struct UpstreamAlpn {
  enum class Codec { Tcp, Http1, Http2, Auto };
  Codec codec = Codec::Tcp;
  const std::vector<std::string>* override = nullptr;  // istio.alpn's list; null: none
};
std::vector<std::string> offeredAlpn(const UpstreamTlsConfig& config, const UpstreamAlpn& alpn);

// The istio.alpn list a request through `hcm` to `cluster` goes upstream with (by the
// protocol Envoy's upstreamHttpProtocol puts first: the cluster's, the client's with
// use_downstream_protocol_config, HTTP/2 with auto_config), or null: no istio.alpn, the
// cluster opts out, or an empty list.
const std::vector<std::string>* istioAlpnOverride(const HttpConnectionManagerConfig& hcm, const Cluster& cluster,
                                                  std::string_view downstreamProtocol = "HTTP/1.1");

// Client handshake on a connected upstream socket: SNI, ALPN (offeredAlpn), verification and
// SAN checks, before `deadline`. Returns "" or Envoy's transport failure reason ("TLS error: …").
asio::awaitable<std::string> connectTls(Worker& worker, Transport& socket,
                                        const std::shared_ptr<const UpstreamTlsConfig>& config,
                                        const UpstreamAlpn& alpn, std::chrono::steady_clock::time_point deadline);

// The protocol ALPN chose on a connection after its handshake ("" when none).
std::string negotiatedAlpn(Transport& socket);

// The first URI SAN of the server's verified certificate after connectTls (Envoy's upstream
// peer principal, Istio's destination_principal); "" when unverified or absent.
std::string upstreamPeerPrincipal(Transport& socket, const UpstreamTlsConfig& config);

// What an upstream pool key adds for the endpoint's TLS settings and an ALPN override ("" for
// plain TCP), so plain and TLS connections, or ones offering different ALPN, never mix.
std::string tlsPoolKeySuffix(const Cluster& cluster, const Endpoint& endpoint,
                             const std::vector<std::string>* alpnOverride = nullptr);

}  // namespace mesh::proxy::dataplane
