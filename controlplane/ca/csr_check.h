// Checks a workload's PKCS#10 request before meshd's CA signs it: size, signature, key type
// and size, and exactly one SAN, a SPIFFE URI in the CA's trust domain. Untrusted input; pure,
// any thread. Which identities a caller may have is decided by the caller of checkCsr().
#pragma once

#include <string_view>

#include "controlplane/ca/pki.h"
#include "controlplane/ca/spiffe_id.h"
#include "core/result.h"

namespace mesh::ca {

// A CSR PEM of an RSA-4096 key with one SPIFFE SAN is about 1.8 KiB; 16 KiB leaves room for
// a subject and other attributes without letting a caller make the CA parse megabytes.
inline constexpr size_t kMaxCsrPemBytes = 16 * 1024;

struct CheckedCsr {
  PKey publicKey;     // the key the certificate will certify
  SpiffeId identity;  // the one identity requested
};

// InvalidInput, naming the rule broken, unless: the PEM is at most kMaxCsrPemBytes and holds
// one CSR whose signature verifies with its own key; the key is ECDSA P-256 or P-384, or RSA of
// 2048 to 4096 bits; the CSR requests one subjectAltName extension holding exactly one name, a
// SPIFFE URI whose trust domain is `trustDomain`.
Result<CheckedCsr> checkCsr(std::string_view pem, std::string_view trustDomain);

}  // namespace mesh::ca
