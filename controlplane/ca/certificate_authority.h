// meshd's certificate authority, Istio's model: a signing certificate and key (a self-signed
// root, or an intermediate plugged in with its chain to the root) that turns checked CSRs into
// short-lived SPIFFE workload certificates. Built once at start-up (ca_loader.h); afterwards
// immutable, so gRPC threads call it concurrently.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/ca/csr_check.h"
#include "controlplane/ca/pki.h"
#include "controlplane/ca/spiffe_id.h"
#include "core/result.h"

namespace mesh::ca {

using namespace std::chrono_literals;

struct CaOptions {
  std::string trustDomain = "cluster.local";
  // Istio's DEFAULT_WORKLOAD_CERT_TTL and MAX_WORKLOAD_CERT_TTL.
  std::chrono::seconds defaultTtl = 24h;
  std::chrono::seconds maxTtl = std::chrono::hours(24 * 90);
};

// A certificate and the key that goes with it, PEM; the chain holds the leaf first and the
// root last.
struct KeyAndChain {
  std::vector<std::string> chainPem;
  std::string privateKeyPem;
};

struct IssuedCertificate {
  std::vector<std::string> chainPem;  // leaf first, root last
  SpiffeId identity;
  std::chrono::system_clock::time_point notAfter;
};

class CertificateAuthority {
 public:
  // `chain` holds the certificates above `signingCert` up to the root, root last; empty when
  // the signing certificate is the root. ca_loader.h checks them before this is called.
  CertificateAuthority(PKey signingKey, Cert signingCert, std::vector<Cert> chain, CaOptions options);

  // Signs a checked CSR for its identity. validity 0 takes the default TTL; a negative or
  // larger-than-max validity is InvalidInput (Istio refuses a TTL above the max rather than
  // cutting it). The certificate never outlives the signing certificate.
  Result<IssuedCertificate> signWorkload(const CheckedCsr& csr, std::chrono::seconds validity) const;

  // A fresh ECDSA P-256 key and a serving certificate for meshd's own CA port.
  Result<KeyAndChain> issueServingCertificate(const std::vector<std::string>& dnsNames,
                                              const std::vector<std::string>& ipAddresses,
                                              std::chrono::seconds validity) const;

  // The identity of a peer's certificate when it is a workload certificate this CA signed
  // (not one signed by another CA under the same root) and valid now: one SPIFFE URI SAN in the
  // trust domain, clientAuth, not a CA. `presentedChainPem` may add intermediates the peer sent.
  Result<SpiffeId> verifyWorkloadCertificate(std::string_view leafPem, std::string_view presentedChainPem = {}) const;

  const std::string& rootPem() const { return rootPem_; }
  const CaOptions& options() const { return options_; }
  std::chrono::system_clock::time_point rootNotAfter() const;

 private:
  Result<Cert> signLeaf(EVP_PKEY* subjectKey, GENERAL_NAMES* sans, bool emptySubject,
                        std::chrono::system_clock::time_point notAfterTime) const;

  PKey key_;
  Cert cert_;
  std::vector<Cert> chain_;
  CaOptions options_;
  std::vector<std::string> issuerChainPem_;  // signing certificate up to the root
  std::string rootPem_;
};

// A self-signed root as Istio's self-signed CA makes it: O=<trust domain>, CA:TRUE,
// keyCertSign and cRLSign, valid from a minute ago for `validity` (Istio: 10 years).
Result<Cert> createSelfSignedRoot(EVP_PKEY* key, std::string_view organization, std::chrono::seconds validity);

}  // namespace mesh::ca
