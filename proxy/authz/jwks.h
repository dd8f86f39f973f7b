// JSON Web Key Sets and JWS signature checks for the JWT filter: base64url, size- and
// depth-bounded JSON, RSA (n, e) and EC (P-256, P-384: crv, x, y) keys through OpenSSL's EVP,
// RS256/384/512, PS256/384/512 and ES256/384 (raw r||s signatures). A Jwks is built on the
// config thread and only read afterwards, by any number of threads.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace mesh::proxy::authz {

inline constexpr size_t kMaxJwksBytes = 256 * 1024;
inline constexpr int kMaxJsonDepth = 16;

// Unpadded or padded base64url; nullopt on any other character.
std::optional<std::string> base64UrlDecode(std::string_view in);
std::string base64UrlEncode(std::string_view in, bool pad = false);
// JSON no deeper than `maxDepth` nested objects/arrays; nullopt when invalid or deeper.
std::optional<nlohmann::json> parseBoundedJson(std::string_view text, int maxDepth = kMaxJsonDepth);

enum class JwsAlg { RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 };
// nullopt for "none", HMAC and anything else this proxy does not verify.
std::optional<JwsAlg> jwsAlgFromName(std::string_view name);

class Jwks {
 public:
  // Error text says what is wrong (never the key material).
  static Result<std::shared_ptr<const Jwks>> parse(std::string_view json);
  ~Jwks();
  Jwks() = default;
  Jwks(const Jwks&) = delete;
  Jwks& operator=(const Jwks&) = delete;

  enum class Verdict { Ok, NoMatchingKey, BadSignature };
  // `kid` empty: every key of the right type is tried, as Envoy does.
  Verdict verify(JwsAlg alg, std::string_view algName, std::string_view kid, std::string_view signingInput,
                 std::string_view signature) const;
  size_t size() const { return keys_.size(); }

 private:
  struct Key {
    std::string kid;
    std::string alg;  // empty: any algorithm of the key's type
    bool rsa = true;
    int curveBits = 0;  // EC: 256 or 384
    evp_pkey_st* pkey = nullptr;
  };
  std::vector<Key> keys_;
};

}  // namespace mesh::proxy::authz
