// meshproxy's client of Istio's certificate service (meshd's CA port, istiod's 15012): one
// CreateCertificate call over TLS that must verify against the configured root (no
// trust-on-first-use), authenticated by the bearer token file or, for a renewal, by the
// current certificate. Called from the certificate manager's thread; holds no state between
// calls, so files (root, token) are re-read each time and may be rotated in place.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"

namespace mesh::proxy::security {

struct CaClientOptions {
  std::string address = "127.0.0.1:15012";  // HOST:PORT of the CA
  std::string rootCertFile;                 // PEM the CA's serving certificate must chain to; required
  std::string tokenFile;                    // `authorization: Bearer <file contents>`; may be empty
  // The name checked against the CA's certificate when it differs from the address's host
  // (Istio's agents use istiod.istio-system.svc).
  std::string serverName;
  std::string trustDomain = "cluster.local";
  std::string ns = "default";
  std::string serviceAccount = "default";
  std::chrono::seconds requestedValidity{0};  // 0: the CA's default (24h at meshd)
  std::chrono::milliseconds callTimeout{10000};
};

// What the workload holds: the issued chain (leaf first), its key, the root it trusts.
struct WorkloadCertificate {
  std::string certChainPem;
  std::string privateKeyPem;  // never logged; dumps must redact it
  std::string rootPem;
  std::string identity;                            // the SPIFFE URI
  std::chrono::system_clock::time_point issuedAt;  // when this workload received it
  std::chrono::system_clock::time_point expiry;
  ~WorkloadCertificate();
};

class CaClient {
 public:
  explicit CaClient(CaClientOptions options);

  // A new key and certificate. With `current` still valid, first tries a renewal authenticated
  // by it (mTLS); when that fails, or there is no current certificate, authenticates with the
  // token. Errors say which step failed and never contain the token or a key.
  Result<std::shared_ptr<const WorkloadCertificate>> fetch(const WorkloadCertificate* current) const;

  const CaClientOptions& options() const { return options_; }

 private:
  Result<std::shared_ptr<const WorkloadCertificate>> call(const std::string& root,
                                                          const WorkloadCertificate* clientCert,
                                                          const std::string* token) const;

  CaClientOptions options_;
};

}  // namespace mesh::proxy::security
