// Tests only: RSA and EC keys made with OpenSSL, their JWKS, and tokens signed with them
// (RS*, PS*, ES* with raw r||s signatures), for the JWT filter's unit and loopback tests.
#pragma once

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "proxy/authz/jwks.h"

namespace mesh::proxy::authz::testing {

class TestKey {
 public:
  // "RSA" (2048 bits) or "EC" with curve "P-256" / "P-384".
  static TestKey rsa(std::string kid) {
    TestKey k(std::move(kid));
    k.pkey_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    if (k.pkey_ == nullptr) throw std::runtime_error("RSA keygen failed");
    return k;
  }
  static TestKey ec(std::string kid, const char* curve) {
    TestKey k(std::move(kid));
    k.pkey_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
    if (k.pkey_ == nullptr) throw std::runtime_error("EC keygen failed");
    k.curveBytes_ = std::string(curve) == "P-256" ? 32 : 48;
    return k;
  }
  TestKey(TestKey&& o) noexcept : kid_(std::move(o.kid_)), pkey_(o.pkey_), curveBytes_(o.curveBytes_) { o.pkey_ = nullptr; }
  TestKey(const TestKey&) = delete;
  ~TestKey() { EVP_PKEY_free(pkey_); }

  // The public half as one JWK.
  nlohmann::json jwk() const {
    nlohmann::json j{{"kid", kid_}};
    if (curveBytes_ == 0) {
      j["kty"] = "RSA";
      j["n"] = base64UrlEncode(bn(OSSL_PKEY_PARAM_RSA_N, 0));
      j["e"] = base64UrlEncode(bn(OSSL_PKEY_PARAM_RSA_E, 0));
    } else {
      j["kty"] = "EC";
      j["crv"] = curveBytes_ == 32 ? "P-256" : "P-384";
      j["x"] = base64UrlEncode(bn(OSSL_PKEY_PARAM_EC_PUB_X, curveBytes_));
      j["y"] = base64UrlEncode(bn(OSSL_PKEY_PARAM_EC_PUB_Y, curveBytes_));
    }
    return j;
  }

  // A compact JWS of `payload` with `alg` (RS256, PS384, ES256, ...).
  std::string sign(const nlohmann::json& payload, const std::string& alg) const {
    nlohmann::json header{{"alg", alg}, {"typ", "JWT"}, {"kid", kid_}};
    std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(payload.dump());
    const EVP_MD* md = alg.ends_with("256") ? EVP_sha256() : alg.ends_with("384") ? EVP_sha384() : EVP_sha512();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestSignInit(ctx, &pctx, md, nullptr, pkey_);
    if (alg.starts_with("PS")) {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (curveBytes_ != 0) sig = rawEcdsa(sig);
    return input + "." + base64UrlEncode(sig);
  }

 private:
  explicit TestKey(std::string kid) : kid_(std::move(kid)) {}

  std::string bn(const char* name, size_t width) const {
    BIGNUM* b = nullptr;
    EVP_PKEY_get_bn_param(pkey_, name, &b);
    size_t n = static_cast<size_t>(BN_num_bytes(b));
    std::string out(std::max(n, width), '\0');
    BN_bn2binpad(b, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(b);
    return out;
  }

  std::string rawEcdsa(const std::string& der) const {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    std::string out(2 * curveBytes_, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(curveBytes_));
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data() + curveBytes_),
                 static_cast<int>(curveBytes_));
    ECDSA_SIG_free(sig);
    return out;
  }

  std::string kid_;
  EVP_PKEY* pkey_ = nullptr;
  size_t curveBytes_ = 0;  // 0: RSA
};

inline std::string jwksOf(std::initializer_list<const TestKey*> keys) {
  nlohmann::json j{{"keys", nlohmann::json::array()}};
  for (const TestKey* k : keys) j["keys"].push_back(k->jwk());
  return j.dump();
}

}  // namespace mesh::proxy::authz::testing
