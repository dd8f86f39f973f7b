// SSL contexts for TLS filter chains and upstream endpoints, built from their compiled config
// (tls_config.h) and the SecretStore. TlsContextCache keeps one context per config and rebuilds
// it when SecretStore::version() moves (certificate rotation), never per connection; it is
// shared by the workers and locked. Also what a finished handshake tells: the peer certificate
// (principal, SANs, hash for x-forwarded-client-cert) and the negotiated ALPN.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "proxy/dataplane/secret_store.h"
#include "proxy/dataplane/tls_config.h"
#include "proxy/dataplane/transport.h"

namespace mesh::proxy::dataplane {

// What x-forwarded-client-cert and telemetry need from the peer's certificate.
struct PeerCertificate {
  std::string sha256Hex;  // of the DER encoding
  std::string subject;    // RFC 2253
  std::vector<std::string> uriSans;
  std::vector<std::string> dnsSans;
  std::string certPem;
  std::string chainPem;  // the peer's certificate and the chain it sent
};

// One TLS connection after its handshake.
struct TlsSession {
  std::shared_ptr<const PeerCertificate> peer;  // null: no certificate presented
  std::vector<std::string> localUriSans;        // of our own certificate (XFCC's By=)
  std::string alpn;
};

// Builds a context; `secrets` may be null (then SDS names fail as not ready). Errors name the
// config path and field; an SDS secret that is missing says "not ready".
Result<std::shared_ptr<asio::ssl::context>> buildServerContext(const DownstreamTlsConfig& config,
                                                               const SecretStore* secrets);
Result<std::shared_ptr<asio::ssl::context>> buildClientContext(const UpstreamTlsConfig& config,
                                                               const SecretStore* secrets);

// One session ticket key from its 80 bytes (Envoy's layout); the error never shows the bytes.
Result<TicketKey> ticketKeyOf(std::string_view bytes);

// Upstream session resumption (UpstreamTlsContext.max_session_keys): before the client
// handshake on `ssl` (made from a TlsContextCache client context), offers the latest session
// kept for `host` and has the sessions the server issues on it kept for `host`. Nothing when
// the config keeps no sessions.
void resumeUpstreamSession(SSL* ssl, const std::string& host);

// Checks the parts of a config that need no secret (inline PEM, cipher suites, versions), so
// compile_tls.cpp can NACK them.
Result<void> checkInlineTls(const TlsCommonConfig& config);

class TlsContextCache {
 public:
  explicit TlsContextCache(std::shared_ptr<SecretStore> secrets) : secrets_(std::move(secrets)) {}
  Result<std::shared_ptr<asio::ssl::context>> server(const std::shared_ptr<const DownstreamTlsConfig>& config);
  Result<std::shared_ptr<asio::ssl::context>> client(const std::shared_ptr<const UpstreamTlsConfig>& config);

 private:
  struct Entry {
    std::weak_ptr<const void> config;  // the key's owner: a freed config's address may be reused
    uint64_t version = 0;
    std::shared_ptr<asio::ssl::context> context;
  };
  template <typename Config, typename Build>
  Result<std::shared_ptr<asio::ssl::context>> get(const std::shared_ptr<const Config>& config, Build build);

  std::shared_ptr<SecretStore> secrets_;
  std::mutex mu_;
  std::map<const void*, Entry> entries_;
};

// The peer's certificate of a finished handshake (null when it sent none).
std::shared_ptr<const PeerCertificate> peerCertificate(SSL* ssl);
TlsSession sessionOf(SSL* ssl);
// Whether any SAN of the peer's certificate satisfies one of `matchers` (true when empty).
bool peerSansMatch(SSL* ssl, const std::vector<SanMatcher>& matchers);

}  // namespace mesh::proxy::dataplane
