// Envoy's jwt_authn filter (envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication):
// providers (issuer, audiences, local JWKS, token locations, forwarding, payload to dynamic
// metadata, claims to headers), rules by path choosing a requirement (provider, requires_any,
// requires_all, allow_missing, allow_missing_or_failed), and Envoy's failure texts. Remote
// JWKS are not fetched: their tokens fail with "Jwks remote fetch is failed". Compiled on the
// config thread; verify() is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "envoy/extensions/filters/http/jwt_authn/v3/config.pb.h"
#include "proxy/authz/authz_request.h"

namespace mesh::proxy::authz {

inline constexpr const char* kJwtAuthnFilterName = "envoy.filters.http.jwt_authn";
inline constexpr size_t kMaxTokenBytes = 8 * 1024;

struct JwtRequest {
  std::string_view method;
  std::string_view path;  // with query
  const RequestHeaders* headers = nullptr;
};

struct JwtResult {
  bool allowed = true;
  unsigned httpStatus = 0;  // when denied: 401, or 403 for "Audiences in Jwt are not allowed"
  std::string message;      // Envoy's status text when denied
  bool tokenMissing = false;  // denied because no token was found
  // Applied to the request in this order (also when allowed without a token: headers that
  // only a verified token may set are always removed first).
  std::vector<std::string> removeHeaders;
  std::vector<std::pair<std::string, std::string>> setHeaders;
  // {"envoy.filters.http.jwt_authn": {"<payload_in_metadata>": {claims}}} for verified tokens.
  DynamicMetadata metadata;
};

class JwtAuthn {
 public:
  static Result<std::shared_ptr<const JwtAuthn>> compile(
      const envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication& config, const std::string& where);
  JwtResult verify(const JwtRequest& request, int64_t nowSeconds) const;

  struct Provider;
  struct Requirement;
  struct Rule;

 private:
  std::vector<std::shared_ptr<const Provider>> providers_;  // name order
  std::vector<std::shared_ptr<const Rule>> rules_;
  std::vector<std::string> sanitizedHeaders_;  // forward_payload_header and claim_to_headers names
  bool bypassCorsPreflight_ = false;
};

}  // namespace mesh::proxy::authz
