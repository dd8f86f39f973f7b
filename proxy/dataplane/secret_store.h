// SecretStore: the TLS material the data plane's TLS sockets use, by the SDS resource names
// that listeners and clusters refer to ("default", "ROOTCA", "kubernetes://NAME", …). Written
// by meshproxy's certificate agent and by SDS from meshd; read by workers when they build TLS
// contexts. Thread-safe; a TLS context built from version() N is rebuilt once it moves.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::proxy::dataplane {

// One SDS Secret: a tls_certificate (chain and key), a validation_context (trusted CAs),
// session_ticket_keys (80 bytes each), or several. Keys are never logged or dumped.
struct TlsSecret {
  std::string certificateChainPem;
  std::string privateKeyPem;
  std::string trustedCaPem;
  std::vector<std::string> sessionTicketKeys{};  // {}: positional initialisers may leave it out
  bool hasCertificate() const { return !certificateChainPem.empty() && !privateKeyPem.empty(); }
  bool hasValidation() const { return !trustedCaPem.empty(); }
};

class SecretStore {
 public:
  void set(std::string name, TlsSecret secret);
  void erase(std::string_view name);
  // Null when no secret has that name (yet): a TLS socket that needs it is not ready.
  std::shared_ptr<const TlsSecret> get(std::string_view name) const;
  // Moves on every set and erase.
  uint64_t version() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TlsSecret>, std::less<>> secrets_;
  uint64_t version_ = 0;
};

}  // namespace mesh::proxy::dataplane
