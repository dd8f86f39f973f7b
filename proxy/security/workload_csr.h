// The workload side of Istio's certificate flow, as istio-agent does it: a fresh ECDSA P-256
// key per request, a CSR whose only SAN is the workload's SPIFFE URI, and checks of what the
// CA sent back (it chains to the trusted root, certifies our key). Pure; any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mesh::proxy::security {

struct KeyAndCsr {
  std::string privateKeyPem;  // PKCS#8; never logged
  std::string csrPem;
};

// spiffe://TRUST_DOMAIN/ns/NS/sa/SA
std::string spiffeUri(std::string_view trustDomain, std::string_view ns, std::string_view serviceAccount);

Result<KeyAndCsr> generateKeyAndCsr(std::string_view spiffeUri);

struct CheckedChain {
  std::chrono::system_clock::time_point notBefore;
  std::chrono::system_clock::time_point notAfter;
};

// Accepts the CA's answer only if the leaf (chain[0]) certifies the key in privateKeyPem,
// carries `spiffeUri` as a URI SAN, is valid now, and chains through the rest of `chain` to
// `rootPem`.
Result<CheckedChain> checkIssuedChain(const std::vector<std::string>& chain, std::string_view privateKeyPem,
                                      std::string_view rootPem, std::string_view spiffeUri);

// Overwrites a string that held key material before it is freed.
void wipe(std::string& secret);

}  // namespace mesh::proxy::security
