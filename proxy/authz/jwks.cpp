#include "proxy/authz/jwks.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

namespace mesh::proxy::authz {

namespace {

int base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

Failure jwksError(const std::string& what) { return fail(ErrorCode::InvalidInput, "invalid JWKS: " + what); }

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;

Bn bignum(std::string_view bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

// A public key from OSSL_PARAMs; null when OpenSSL refuses them.
EVP_PKEY* keyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx) <= 0 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (pkey != nullptr) {
    // Off-curve EC points and malformed RSA moduli are refused here, not at the first request.
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    bool ok = check != nullptr && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!ok) {
      EVP_PKEY_free(pkey);
      pkey = nullptr;
    }
  }
  return pkey;
}

std::optional<std::string> member(const nlohmann::json& key, const char* name) {
  auto it = key.find(name);
  if (it == key.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

const EVP_MD* digestFor(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::RS256: case JwsAlg::PS256: case JwsAlg::ES256: return EVP_sha256();
    case JwsAlg::RS384: case JwsAlg::PS384: case JwsAlg::ES384: return EVP_sha384();
    case JwsAlg::RS512: case JwsAlg::PS512: return EVP_sha512();
  }
  return nullptr;
}

bool isEc(JwsAlg alg) { return alg == JwsAlg::ES256 || alg == JwsAlg::ES384; }
bool isPss(JwsAlg alg) { return alg == JwsAlg::PS256 || alg == JwsAlg::PS384 || alg == JwsAlg::PS512; }

// JWS carries ECDSA signatures as r||s; OpenSSL wants DER.
std::optional<std::string> ecdsaDer(std::string_view raw, int curveBits) {
  size_t half = static_cast<size_t>((curveBits + 7) / 8);
  if (raw.size() != 2 * half) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half), static_cast<int>(half), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verifyWith(EVP_PKEY* pkey, JwsAlg alg, int curveBits, std::string_view input, std::string_view signature) {
  std::string der;
  if (isEc(alg)) {
    auto d = ecdsaDer(signature, curveBits);
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = md != nullptr && EVP_DigestVerifyInit(md, &pctx, digestFor(alg), nullptr, pkey) == 1;
  if (ok && isPss(alg)) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  ok = ok && EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                              reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

}  // namespace

std::optional<std::string> base64UrlDecode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string base64UrlEncode(std::string_view in, bool pad) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kChars[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kChars[(acc << (6 - bits)) & 0x3f]);
  while (pad && out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::optional<nlohmann::json> parseBoundedJson(std::string_view text, int maxDepth) {
  // Nesting is counted before parsing so a hostile token cannot make the parser recurse deeply.
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') inString = true;
    else if (c == '{' || c == '[') {
      if (++depth > maxDepth) return std::nullopt;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<JwsAlg> jwsAlgFromName(std::string_view name) {
  static constexpr std::pair<std::string_view, JwsAlg> kAlgs[] = {
      {"RS256", JwsAlg::RS256}, {"RS384", JwsAlg::RS384}, {"RS512", JwsAlg::RS512}, {"PS256", JwsAlg::PS256},
      {"PS384", JwsAlg::PS384}, {"PS512", JwsAlg::PS512}, {"ES256", JwsAlg::ES256}, {"ES384", JwsAlg::ES384}};
  for (const auto& [n, a] : kAlgs) {
    if (n == name) return a;
  }
  return std::nullopt;
}

Jwks::~Jwks() {
  for (Key& k : keys_) EVP_PKEY_free(k.pkey);
}

Result<std::shared_ptr<const Jwks>> Jwks::parse(std::string_view json) {
  if (json.size() > kMaxJwksBytes) return jwksError("larger than " + std::to_string(kMaxJwksBytes) + " bytes");
  auto doc = parseBoundedJson(json);
  if (!doc || !doc->is_object()) return jwksError("not a JSON object");
  auto keys = doc->find("keys");
  if (keys == doc->end() || !keys->is_array()) return jwksError("no \"keys\" array");
  auto out = std::make_shared<Jwks>();
  for (size_t i = 0; i < keys->size(); ++i) {
    const nlohmann::json& k = (*keys)[i];
    std::string at = "keys[" + std::to_string(i) + "]";
    if (!k.is_object()) return jwksError(at + " is not an object");
    auto kty = member(k, "kty");
    if (!kty) return jwksError(at + ".kty is missing");
    Key key;
    key.kid = member(k, "kid").value_or("");
    key.alg = member(k, "alg").value_or("");
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    if (bld == nullptr) return jwksError("out of memory");
    if (*kty == "RSA") {
      auto n = member(k, "n"), e = member(k, "e");
      auto nb = n ? base64UrlDecode(*n) : std::nullopt;
      auto eb = e ? base64UrlDecode(*e) : std::nullopt;
      if (!nb || !eb || nb->empty() || eb->empty()) {
        OSSL_PARAM_BLD_free(bld);
        return jwksError(at + ": RSA key needs base64url n and e");
      }
      Bn bn = bignum(*nb), be = bignum(*eb);
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn.get());
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be.get());
      key.rsa = true;
      key.pkey = keyFromParams("RSA", bld);
    } else if (*kty == "EC") {
      auto crv = member(k, "crv"), x = member(k, "x"), y = member(k, "y");
      auto xb = x ? base64UrlDecode(*x) : std::nullopt;
      auto yb = y ? base64UrlDecode(*y) : std::nullopt;
      key.rsa = false;
      key.curveBits = crv == "P-256" ? 256 : crv == "P-384" ? 384 : 0;
      size_t len = static_cast<size_t>(key.curveBits / 8);
      if (key.curveBits == 0) {
        OSSL_PARAM_BLD_free(bld);
        continue;  // other curves (P-521, ...) are not verified here; the key is skipped
      }
      if (!xb || !yb || xb->size() != len || yb->size() != len) {
        OSSL_PARAM_BLD_free(bld);
        return jwksError(at + ": EC key needs base64url x and y of the curve's size");
      }
      std::string point = "\x04" + *xb + *yb;
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, key.curveBits == 256 ? "P-256" : "P-384", 0);
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
      key.pkey = keyFromParams("EC", bld);
    } else {
      OSSL_PARAM_BLD_free(bld);
      continue;  // "oct" (HMAC) and "OKP" keys are not verified here
    }
    OSSL_PARAM_BLD_free(bld);
    if (key.pkey == nullptr) return jwksError(at + ": OpenSSL refused the " + *kty + " key");
    out->keys_.push_back(std::move(key));
  }
  if (out->keys_.empty()) return jwksError("no RSA or EC (P-256, P-384) keys");
  return std::shared_ptr<const Jwks>(std::move(out));
}

Jwks::Verdict Jwks::verify(JwsAlg alg, std::string_view algName, std::string_view kid, std::string_view signingInput,
                           std::string_view signature) const {
  bool anyKey = false;
  for (const Key& k : keys_) {
    if (!kid.empty() && !k.kid.empty() && k.kid != kid) continue;
    if (!k.alg.empty() && k.alg != algName) continue;
    if (isEc(alg)) {
      if (k.rsa || k.curveBits != (alg == JwsAlg::ES256 ? 256 : 384)) continue;
    } else if (!k.rsa) {
      continue;
    }
    anyKey = true;
    if (verifyWith(k.pkey, alg, k.curveBits, signingInput, signature)) return Verdict::Ok;
  }
  return anyKey ? Verdict::BadSignature : Verdict::NoMatchingKey;
}

}  // namespace mesh::proxy::authz
