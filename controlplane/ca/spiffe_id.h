// SPIFFE identities as Istio issues them: spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT.
// Parsing is strict (the CA signs whatever parses), formatting is the inverse. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace mesh::ca {

struct SpiffeId {
  std::string trustDomain;
  std::string ns;
  std::string serviceAccount;

  std::string uri() const;
  bool operator==(const SpiffeId&) const = default;
};

// Longest URI accepted, as the SPIFFE spec bounds SPIFFE IDs.
inline constexpr size_t kMaxSpiffeIdBytes = 2048;

// Accepts exactly spiffe://TD/ns/NS/sa/SA: a lower-case trust domain of [a-z0-9.-_], namespace
// and service account of [A-Za-z0-9.-_] (no "." or ".." segments), no query, fragment, port or
// user info. Anything else is InvalidInput naming what is wrong.
Result<SpiffeId> parseSpiffeId(std::string_view uri);

// Whether `domain` is a valid trust domain name (the --trust-domain flag is checked with it).
bool isValidTrustDomain(std::string_view domain);

}  // namespace mesh::ca
