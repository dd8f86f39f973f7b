// Where meshd's CA key material comes from, Istio's two ways: "plugged-in" certificates the
// operator provides (--ca-cert, --ca-key, --ca-chain, like Istio's cacerts Secret), or a
// self-signed root meshd generates once and keeps in --ca-dir (like istio-ca-secret).
// Called once by meshd's main at start-up.
#pragma once

#include <memory>
#include <string>

#include "controlplane/ca/certificate_authority.h"

namespace mesh::ca {

struct PluggedCaFiles {
  std::string cert;   // the signing certificate (the root itself, or an intermediate)
  std::string key;    // its private key, unencrypted PEM
  std::string chain;  // optional: the certificates above `cert`, root last
};

// Istio's self-signed root lives 10 years.
inline constexpr std::chrono::seconds kSelfSignedRootValidity = std::chrono::hours(24 * 3650);

// Checks that the key matches, the signing certificate is a CA allowed to sign certificates,
// is valid now, and chains to the root (the chain's last certificate, self-signed; or `cert`
// itself when no chain is given). A copy of `cert` at the head of the chain is dropped.
Result<std::unique_ptr<CertificateAuthority>> loadPluggedCa(const PluggedCaFiles& files, const CaOptions& options);

// Reuses DIR/ca-cert.pem and DIR/ca-key.pem when both exist (the key must be 0600 or
// stricter), otherwise generates a root (O=<trust domain>) and writes both files 0600 in DIR
// (created 0700). Exactly one of the two files present is a Conflict: meshd never replaces a
// root by accident, since every certificate issued under it would stop verifying.
Result<std::unique_ptr<CertificateAuthority>> loadOrCreateSelfSignedCa(
    const std::string& dir, const CaOptions& options, KeyAlgorithm algorithm = KeyAlgorithm::EcdsaP256);

// An in-memory self-signed CA (tests, and callers with nowhere to persist).
Result<std::unique_ptr<CertificateAuthority>> createEphemeralCa(const CaOptions& options,
                                                                KeyAlgorithm algorithm = KeyAlgorithm::EcdsaP256);

}  // namespace mesh::ca
