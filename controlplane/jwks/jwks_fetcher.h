// JwksFetcher: how meshd downloads a JSON Web Key Set or an OpenID discovery document for a
// RequestAuthentication (Istio's istiod does the same so proxies get keys inline). The curl
// implementation verifies TLS, bounds time and size, and refuses plain http except to a
// loopback host. Called only from the JwksResolver's own thread; tests substitute a fake.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mesh::jwks {

class JwksFetcher {
 public:
  virtual ~JwksFetcher() = default;
  // The body of a 2xx answer to GET `url` within `timeout` (the whole exchange). Returns early
  // (Unavailable) once `cancel` is set.
  virtual Result<std::string> get(const std::string& url, std::chrono::milliseconds timeout,
                                  const std::atomic<bool>& cancel) = 0;
};

struct CurlFetchOptions {
  std::size_t maxBodyBytes = 256 * 1024;
};

std::unique_ptr<JwksFetcher> makeCurlFetcher(CurlFetchOptions options);

// Whether meshd may fetch keys from `url`: https to anywhere, http only to a loopback host
// (127.0.0.0/8, [::1], localhost). InvalidInput naming the reason otherwise.
Result<void> checkFetchUrl(std::string_view url);

// A JWKS body as Envoy's jwt_authn takes it: a JSON object whose "keys" is a non-empty array.
Result<void> checkJwks(std::string_view body);

// The "jwks_uri" of an OpenID Connect discovery document.
Result<std::string> discoveredJwksUri(std::string_view body);

// Where an issuer's discovery document lives: the issuer without a trailing '/', plus
// "/.well-known/openid-configuration" (OpenID Connect Discovery 1.0, section 4).
std::string discoveryUrl(std::string_view issuer);

}  // namespace mesh::jwks
