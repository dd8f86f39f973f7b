// TLS handshakes: see tls_handshake.h.
#include "proxy/dataplane/tls_handshake.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/log.h"

namespace mesh::proxy::dataplane {

namespace {

// OpenSSL's reason for the last failure, Envoy-like ("…:CERTIFICATE_VERIFY_FAILED").
std::string sslReason(const boost::system::error_code& ec, SSL* ssl) {
  std::string out;
  if (ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) out = X509_verify_cert_error_string(verify);
  }
  if (out.empty()) out = ec.message();
  ERR_clear_error();
  return out;
}

}  // namespace

asio::awaitable<bool> acceptTls(Engine& engine, Worker& worker, Downstream& ds,
                                const std::shared_ptr<const DownstreamTlsConfig>& config) {
  auto ctx = engine.tlsContexts.server(config);
  if (!ctx) {
    log::debug("tls", "closing connection from {}: {}", ds.info.sourceAddress, ctx.error().message);
    co_return false;
  }
  ds.socket.startTls(*ctx);
  Deadline timeout(worker.ioc, std::chrono::steady_clock::now() + kTlsHandshakeTimeout, [&ds] {
    boost::system::error_code ignored;
    ds.socket.close(ignored);
  });
  auto ec = co_await ds.socket.handshake(true);
  if (ec || timeout.expired()) {
    log::debug("tls", "handshake with {} failed: {}", ds.info.sourceAddress,
               timeout.expired() ? "timeout" : sslReason(ec, ds.socket.ssl()));
    co_return false;
  }
  if (!peerSansMatch(ds.socket.ssl(), config->common.sanMatchers)) {
    log::debug("tls", "client certificate of {} matches no subject alt name", ds.info.sourceAddress);
    co_return false;
  }
  auto session = std::make_shared<TlsSession>(sessionOf(ds.socket.ssl()));
  ds.info.negotiatedAlpn = session->alpn;
  // Envoy's authenticated principal: the first URI SAN of a verified client certificate.
  if (session->peer && !session->peer->uriSans.empty() && !config->common.acceptUntrusted) {
    ds.info.peerPrincipal = session->peer->uriSans.front();
  }
  ds.tls = std::move(session);
  co_return true;
}

std::vector<std::string> offeredAlpn(const UpstreamTlsConfig& config, const UpstreamAlpn& alpn) {
  std::vector<std::string> out = alpn.override != nullptr ? *alpn.override : config.common.alpn;
  if (alpn.codec == UpstreamAlpn::Codec::Http1) std::erase(out, std::string("h2"));
  if (out.empty() && alpn.codec == UpstreamAlpn::Codec::Http1) out.emplace_back("http/1.1");
  if (out.empty() && alpn.codec == UpstreamAlpn::Codec::Http2) out.emplace_back("h2");
  if (out.empty() && alpn.codec == UpstreamAlpn::Codec::Auto) out = {"h2", "http/1.1"};
  return out;
}

const std::vector<std::string>* istioAlpnOverride(const HttpConnectionManagerConfig& hcm, const Cluster& cluster,
                                                  std::string_view downstreamProtocol) {
  if (!hcm.alpnOverride || !cluster.istioAlpnOverride) return nullptr;
  // Envoy's upstreamHttpProtocol, first choice: HTTP/2 with http2 options, the client's
  // protocol with use_downstream_protocol_config, HTTP/2 with auto_config, else HTTP/1.1
  // (HTTP/1.0 is never used upstream).
  bool http2 = cluster.http2.has_value();
  if (cluster.protocolSelection == Cluster::ProtocolSelection::Downstream) http2 = downstreamProtocol == "HTTP/2";
  if (cluster.protocolSelection == Cluster::ProtocolSelection::Alpn) http2 = true;
  const auto& list = http2 ? hcm.alpnOverride->http2 : hcm.alpnOverride->http11;
  return list.empty() ? nullptr : &list;
}

std::string negotiatedAlpn(Transport& socket) {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  if (socket.ssl() != nullptr) SSL_get0_alpn_selected(socket.ssl(), &data, &len);
  return data != nullptr ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

std::string upstreamPeerPrincipal(Transport& socket, const UpstreamTlsConfig& config) {
  if (config.common.acceptUntrusted) return {};
  auto peer = peerCertificate(socket.ssl());
  return peer && !peer->uriSans.empty() ? peer->uriSans.front() : std::string();
}

asio::awaitable<std::string> connectTls(Worker& worker, Transport& socket,
                                        const std::shared_ptr<const UpstreamTlsConfig>& config,
                                        const UpstreamAlpn& alpn, std::chrono::steady_clock::time_point deadline) {
  if (worker.tlsContexts == nullptr) co_return "TLS error: no TLS contexts";
  auto ctx = worker.tlsContexts->client(config);
  if (!ctx) {
    log::debug("tls", "{}: {}", config->common.where, ctx.error().message);
    co_return "TLS error: " + ctx.error().message;
  }
  socket.startTls(*ctx);
  SSL* ssl = socket.ssl();
  if (!config->sni.empty()) SSL_set_tlsext_host_name(ssl, config->sni.c_str());
  // max_session_keys: offer the session of the last connection to this host on this context.
  boost::system::error_code peerError;
  auto peer = socket.remote_endpoint(peerError);
  if (!peerError) resumeUpstreamSession(ssl, peer.address().to_string() + ":" + std::to_string(peer.port()));
  if (auto offered = offeredAlpn(*config, alpn); offered != config->common.alpn) {
    std::string wire;  // length-prefixed names (each 1..255 bytes, checked when compiled)
    for (const auto& p : offered) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    // An empty list turns ALPN off for this connection; SSL_set_alpn_protos returns 0 on success.
    if (SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size())) != 0) {
      co_return "TLS error: ALPN rejected";
    }
  }
  auto until = std::min(deadline, std::chrono::steady_clock::now() + kTlsHandshakeTimeout);
  Deadline timeout(worker.ioc, until, [&socket] {
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  auto ec = co_await socket.handshake(false);
  std::string failure;
  if (timeout.expired()) {
    failure = "TLS error: handshake timeout";
  } else if (ec) {
    failure = "TLS error: " + sslReason(ec, ssl);
  } else if (!peerSansMatch(ssl, config->common.sanMatchers)) {
    failure = "TLS error: the server certificate matches no subject alt name (SAN) of the validation context";
  }
  if (!failure.empty()) log::debug("tls", "{}: {}", config->common.where, failure);
  co_return failure;
}

std::string tlsPoolKeySuffix(const Cluster& cluster, const Endpoint& endpoint,
                             const std::vector<std::string>* alpnOverride) {
  auto tls = cluster.tlsFor(endpoint);
  if (!tls) return {};
  std::string out = "|" + tls->id;
  if (alpnOverride != nullptr) {
    out += "|alpn=";
    for (const auto& p : *alpnOverride) out += p + ",";
  }
  return out;
}

}  // namespace mesh::proxy::dataplane
