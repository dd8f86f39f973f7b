// The compiled TLS settings of a filter chain (DownstreamTlsContext) or of an upstream endpoint
// (UpstreamTlsContext): inline or file PEM already read and checked by compile_tls.cpp, SDS
// secrets by name (looked up in the SecretStore when a context is built). Immutable and shared
// by all workers; tls_context.h turns them into cached SSL_CTXs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

// match_subject_alt_names (any SAN type: URI, DNS, email, IP) or match_typed_subject_alt_names.
struct SanMatcher {
  enum class Type { Any, Uri, Dns, Email, Ip };
  Type type = Type::Any;
  StringMatch match;
};

// One tls_certificates entry (PEM) or one tls_certificate_sds_secret_configs name.
struct TlsCertificateSource {
  std::string chainPem;
  std::string keyPem;
  std::string sdsName;  // set: the SecretStore's certificate of that name
};

struct TlsCommonConfig {
  std::string where;  // the config path, for errors ("Listener x.filter_chains[0].transport_socket")
  std::vector<TlsCertificateSource> certificates;
  bool hasValidation = false;     // a validation context (inline, file or SDS) was given
  std::string trustedCaPem;       // inline or file trusted_ca
  std::string validationSdsName;  // SDS validation context (its trusted CA)
  std::vector<SanMatcher> sanMatchers;
  bool acceptUntrusted = false;  // trust_chain_verification: ACCEPT_UNTRUSTED
  std::vector<std::string> alpn;
  int minVersion = 0;  // TLS1_2_VERSION etc.; 0: the default (TLS 1.2)
  int maxVersion = 0;  // 0: the default (TLS 1.3)
  std::string cipherList;  // OpenSSL's syntax; "" keeps OpenSSL's defaults
  std::string curves;      // ecdh_curves joined with ':'; "" keeps the defaults
};

// One session_ticket_keys entry: Envoy's 80-byte layout, name then HMAC-SHA256 then AES-256 key.
struct TicketKey {
  std::string name;     // 16 bytes
  std::string hmacKey;  // 32 bytes
  std::string aesKey;   // 32 bytes
};

struct DownstreamTlsConfig {
  TlsCommonConfig common;
  bool requireClientCertificate = false;
  // Session resumption, as Envoy's DownstreamTlsContext. Tickets: the first key encrypts, all
  // decrypt; without keys the context makes its own random ones (lost when it is rebuilt).
  std::vector<TicketKey> ticketKeys;  // session_ticket_keys
  std::string ticketKeysSdsName;      // session_ticket_keys_sds_secret_config
  bool disableStatelessResumption = false;  // no tickets
  bool disableStatefulResumption = false;   // no server-side session cache
  std::optional<uint32_t> sessionTimeoutSeconds;  // session_timeout; unset: the library's (2 hours)
};

struct UpstreamTlsConfig {
  TlsCommonConfig common;
  std::string sni;
  std::string id;  // distinguishes this config in connection pool keys
  uint32_t maxSessionKeys = 1;  // sessions kept per upstream host for resumption; 0: none
};

}  // namespace mesh::proxy::dataplane
