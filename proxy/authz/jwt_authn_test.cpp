// The JWT filter with keys made here by OpenSSL: meshd's RequestAuthentication shape (each
// provider OR allow_missing), Envoy's failure texts, time checks with the 60 s skew,
// audiences, tampering, "alg: none", size bounds, token locations, outputs and requirements.
#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "proxy/authz/jwt_authn.h"
#include "proxy/authz/jwt_test_support.h"
#include "proxy/authz/test_headers.h"

using namespace mesh::proxy::authz;
using mesh::proxy::authz::testing::TestKey;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kIssuer = "https://issuer.example.com";

using Headers = mesh::proxy::authz::testing::MapHeaders;

const TestKey& rsaKey() {
  static TestKey k = TestKey::rsa("rsa-1");
  return k;
}
const TestKey& ecKey() {
  static TestKey k = TestKey::ec("ec-1", "P-256");
  return k;
}
const TestKey& ec384Key() {
  static TestKey k = TestKey::ec("ec-2", "P-384");
  return k;
}

json claims(json extra = json::object()) {
  json c{{"iss", kIssuer}, {"sub", "alice"}, {"aud", "shop"}, {"exp", kNow + 3600}, {"iat", kNow},
         {"scope", "read write"}, {"groups", {"dev", "admins"}}};
  for (auto& [k, v] : extra.items()) c[k] = v;
  return c;
}

// meshd's jwt_builder output for one RequestAuthentication rule.
std::string meshdConfig(const std::string& jwks, const std::string& providerExtra = "") {
  return R"(
    providers { key: "origins-0" value {
      issuer: ")" + std::string(kIssuer) + R"(" audiences: "shop"
      forward_payload_header: "x-jwt-payload" payload_in_metadata: "payload"
      normalize_payload_in_metadata { space_delimited_claims: "permission" space_delimited_claims: "scope" }
      local_jwks { inline_string: ')" + jwks + "' } " + providerExtra + R"( } }
    rules { match { prefix: "/" } requires { requires_any {
      requirements { provider_name: "origins-0" } requirements { allow_missing { } } } } }
    bypass_cors_preflight: true)";
}

std::shared_ptr<const JwtAuthn> compile(const std::string& text) {
  envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication c;
  REQUIRE_MESSAGE(google::protobuf::TextFormat::ParseFromString(text, &c), text);
  auto f = JwtAuthn::compile(c, "jwt_authn");
  REQUIRE_MESSAGE(f.has_value(), f.error().message);
  return *f;
}

std::string compileError(const std::string& text) {
  envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication c;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &c));
  auto f = JwtAuthn::compile(c, "jwt_authn");
  REQUIRE_FALSE(f.has_value());
  return f.error().message;
}

JwtResult run(const JwtAuthn& f, const std::string& token, std::string path = "/api", std::string method = "GET") {
  Headers h;
  if (!token.empty()) h.h["authorization"] = "Bearer " + token;
  return f.verify(JwtRequest{method, path, &h}, kNow);
}

std::string failure(const JwtAuthn& f, const std::string& token) {
  JwtResult r = run(f, token);
  CHECK_FALSE(r.allowed);
  return r.message;
}

}  // namespace

TEST_CASE("jwt: a valid RS256 token passes, publishes its payload and forwards it as a header") {
  auto f = compile(meshdConfig(testing::jwksOf({&rsaKey(), &ecKey()})));
  std::string token = rsaKey().sign(claims(), "RS256");
  JwtResult r = run(*f, token);
  REQUIRE(r.allowed);
  const json& payload = r.metadata["envoy.filters.http.jwt_authn"]["payload"];
  CHECK(payload["iss"] == kIssuer);
  CHECK(payload["sub"] == "alice");
  CHECK(payload["scope"] == json({"read", "write"}));  // space-delimited claims become lists
  // forward: false → the token's header goes; the payload goes in x-jwt-payload as sent.
  CHECK(std::find(r.removeHeaders.begin(), r.removeHeaders.end(), "authorization") != r.removeHeaders.end());
  REQUIRE(r.setHeaders.size() == 1);
  CHECK(r.setHeaders[0].first == "x-jwt-payload");
  CHECK(r.setHeaders[0].second == token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
}

TEST_CASE("jwt: every supported algorithm verifies with its key") {
  TestKey rsa2 = TestKey::rsa("rsa-2");
  auto f = compile(meshdConfig(testing::jwksOf({&rsaKey(), &ecKey(), &ec384Key(), &rsa2})));
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
    CHECK_MESSAGE(run(*f, rsaKey().sign(claims(), alg)).allowed, alg);
    CHECK_MESSAGE(run(*f, rsa2.sign(claims(), alg)).allowed, alg);
  }
  CHECK(run(*f, ecKey().sign(claims(), "ES256")).allowed);
  CHECK(run(*f, ec384Key().sign(claims(), "ES384")).allowed);
  // An EC key of the wrong curve is no key for the algorithm.
  CHECK(failure(*f, ecKey().sign(claims(), "ES384")) == "Jwks doesn't have key to match kid or alg from Jwt");
}

TEST_CASE("jwt: Envoy's failure texts and statuses") {
  auto f = compile(meshdConfig(testing::jwksOf({&rsaKey()})));
  std::string good = rsaKey().sign(claims(), "RS256");

  CHECK(failure(*f, rsaKey().sign(claims({{"exp", kNow - 61}}), "RS256")) == "Jwt is expired");
  CHECK(run(*f, rsaKey().sign(claims({{"exp", kNow - 59}}), "RS256")).allowed);  // within the 60 s skew
  CHECK(failure(*f, rsaKey().sign(claims({{"nbf", kNow + 61}}), "RS256")) == "Jwt not yet valid");
  CHECK(run(*f, rsaKey().sign(claims({{"nbf", kNow + 59}}), "RS256")).allowed);
  CHECK(failure(*f, rsaKey().sign(claims({{"iss", "https://evil.example.com"}}), "RS256")) ==
        "Jwt issuer is not configured");

  JwtResult aud = run(*f, rsaKey().sign(claims({{"aud", "billing"}}), "RS256"));
  CHECK_FALSE(aud.allowed);
  CHECK(aud.httpStatus == 403);
  CHECK(aud.message == "Audiences in Jwt are not allowed");
  CHECK(run(*f, rsaKey().sign(claims({{"aud", {"billing", "https://shop/"}}}), "RS256")).allowed);

  // Tampered payload, tampered signature, another key with the same kid.
  std::string tampered = good;
  size_t dot = tampered.find('.');
  tampered.replace(dot + 1, tampered.rfind('.') - dot - 1,
                   base64UrlEncode(claims({{"sub", "mallory"}}).dump()));
  CHECK(failure(*f, tampered) == "Jwt verification fails");
  std::string badSig = good;
  badSig[badSig.size() - 5] = badSig[badSig.size() - 5] == 'A' ? 'B' : 'A';
  CHECK(failure(*f, badSig) == "Jwt verification fails");
  TestKey impostor = TestKey::rsa("rsa-1");
  CHECK(failure(*f, impostor.sign(claims(), "RS256")) == "Jwt verification fails");
  TestKey otherKid = TestKey::rsa("rsa-9");
  CHECK(failure(*f, otherKid.sign(claims(), "RS256")) == "Jwks doesn't have key to match kid or alg from Jwt");

  // alg none (and HMAC) are refused before any key is looked at.
  std::string none = base64UrlEncode(json{{"alg", "none"}}.dump()) + "." + base64UrlEncode(claims().dump()) + ".";
  JwtResult r = run(*f, none);
  CHECK_FALSE(r.allowed);
  CHECK(r.httpStatus == 401);
  CHECK(r.message == "Jwt header [alg] is not supported");
  std::string hs = base64UrlEncode(json{{"alg", "HS256"}}.dump()) + "." + base64UrlEncode(claims().dump()) + ".c2ln";
  CHECK(failure(*f, hs) == "Jwt header [alg] is not supported");

  CHECK(failure(*f, "abc.def") == "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections");
  CHECK(failure(*f, "a=b.e30.c2ln") == "Jwt header is an invalid Base64url encoded");
  std::string deep = std::string(40, '[') + std::string(40, ']');
  CHECK(failure(*f, base64UrlEncode(json{{"alg", "RS256"}}.dump()) + "." + base64UrlEncode(deep) + ".c2ln") ==
        "Jwt payload is an invalid JSON");
  json big = claims({{"pad", std::string(9000, 'x')}});
  CHECK(failure(*f, rsaKey().sign(big, "RS256")) == "Jwt verification fails");
}

TEST_CASE("jwt: a missing token passes meshd's shape but fails a required provider") {
  auto optional = compile(meshdConfig(testing::jwksOf({&rsaKey()})));
  JwtResult none = run(*optional, "");
  CHECK(none.allowed);
  CHECK(none.metadata.is_null());
  // Headers only a verified token may set are removed from every request.
  CHECK(std::find(none.removeHeaders.begin(), none.removeHeaders.end(), "x-jwt-payload") != none.removeHeaders.end());

  auto required = compile(R"(
    providers { key: "p" value { issuer: "https://issuer.example.com" local_jwks { inline_string: ')" +
                          testing::jwksOf({&rsaKey()}) + R"(' } } }
    rules { match { prefix: "/secure" } requires { provider_name: "p" } }
    rules { match { path: "/open" } })");
  JwtResult missing = run(*required, "", "/secure/x");
  CHECK_FALSE(missing.allowed);
  CHECK(missing.httpStatus == 401);
  CHECK(missing.message == "Jwt is missing");
  CHECK(missing.tokenMissing);
  CHECK(run(*required, "", "/open").allowed);
  CHECK(run(*required, "", "/elsewhere").allowed);  // no rule: nothing required
  CHECK(run(*required, rsaKey().sign(claims(), "RS256"), "/secure/x").allowed);
  // A token in the default query parameter counts too.
  Headers h;
  CHECK(required->verify(JwtRequest{"GET", "/secure?access_token=" + rsaKey().sign(claims(), "RS256"), &h}, kNow).allowed);
}

TEST_CASE("jwt: several providers as meshd combines them") {
  TestKey other = TestKey::ec("other", "P-256");
  std::string text = R"(
    providers { key: "origins-0" value { issuer: "https://issuer.example.com" payload_in_metadata: "payload"
      local_jwks { inline_string: ')" + testing::jwksOf({&rsaKey()}) + R"(' } } }
    providers { key: "origins-1" value { issuer: "https://other.example.com" payload_in_metadata: "payload"
      local_jwks { inline_string: ')" + testing::jwksOf({&other}) + R"(' } } }
    rules { match { prefix: "/" } requires { requires_any {
      requirements { provider_name: "origins-0" }
      requirements { provider_name: "origins-1" }
      requirements { requires_all {
        requirements { requires_any { requirements { provider_name: "origins-0" } requirements { allow_missing { } } } }
        requirements { requires_any { requirements { provider_name: "origins-1" } requirements { allow_missing { } } } } } } } } })";
  auto f = compile(text);
  CHECK(run(*f, rsaKey().sign(claims(), "RS256")).allowed);
  JwtResult r = run(*f, other.sign(claims({{"iss", "https://other.example.com"}}), "ES256"));
  CHECK(r.allowed);
  CHECK(r.metadata["envoy.filters.http.jwt_authn"]["payload"]["iss"] == "https://other.example.com");
  CHECK(run(*f, "").allowed);
  CHECK(failure(*f, rsaKey().sign(claims({{"exp", kNow - 3600}}), "RS256")) == "Jwt is expired");
  CHECK(failure(*f, other.sign(claims(), "ES256")) ==
        "Jwks doesn't have key to match kid or alg from Jwt");  // right issuer, another issuer's key
  CHECK(failure(*f, rsaKey().sign(claims({{"iss", "https://nobody.example.com"}}), "RS256")) ==
        "Jwt issuer is not configured");
}

TEST_CASE("jwt: token locations, forwarding and claims to headers") {
  auto f = compile(R"(
    providers { key: "p" value { issuer: "https://issuer.example.com" forward: true
      from_headers { name: "X-Token" value_prefix: "Token " } from_params: "jwt" from_cookies: "session"
      claim_to_headers { header_name: "x-sub" claim_name: "sub" }
      claim_to_headers { header_name: "x-exp" claim_name: "exp" }
      claim_to_headers { header_name: "x-tenant" claim_name: "org.tenant" }
      local_jwks { inline_string: ')" + testing::jwksOf({&rsaKey()}) + R"(' } } }
    rules { match { prefix: "/" } requires { provider_name: "p" } })");
  std::string token = rsaKey().sign(claims({{"org", {{"tenant", "acme"}}}}), "RS256");
  Headers h;
  h.h["x-token"] = "Token " + token;
  JwtResult r = f->verify(JwtRequest{"GET", "/", &h}, kNow);
  REQUIRE(r.allowed);
  std::map<std::string, std::string> set(r.setHeaders.begin(), r.setHeaders.end());
  CHECK(set["x-sub"] == "alice");
  CHECK(set["x-exp"] == std::to_string(kNow + 3600));
  CHECK(set["x-tenant"] == "acme");
  CHECK(std::find(r.removeHeaders.begin(), r.removeHeaders.end(), "x-token") == r.removeHeaders.end());  // forward

  Headers none;
  CHECK(f->verify(JwtRequest{"GET", "/a?x=1&jwt=" + token, &none}, kNow).allowed);
  Headers cookie;
  cookie.h["cookie"] = "a=b; session=" + token;
  CHECK(f->verify(JwtRequest{"GET", "/", &cookie}, kNow).allowed);
  Headers bearer;  // the default Authorization location is not used once locations are given
  bearer.h["authorization"] = "Bearer " + token;
  CHECK(f->verify(JwtRequest{"GET", "/", &bearer}, kNow).message == "Jwt is missing");
}

TEST_CASE("jwt: remote JWKS are not fetched; CORS preflights bypass; requirement_map") {
  auto remote = compile(R"(
    providers { key: "origins-0" value { issuer: "https://issuer.example.com"
      remote_jwks { http_uri { uri: "https://issuer.example.com/jwks" cluster: "outbound|443||issuer.example.com" timeout { seconds: 5 } } } } }
    rules { match { prefix: "/" } requires { requires_any {
      requirements { provider_name: "origins-0" } requirements { allow_missing { } } } } }
    bypass_cors_preflight: true)");
  CHECK(run(*remote, "").allowed);
  CHECK(failure(*remote, rsaKey().sign(claims(), "RS256")) == "Jwks remote fetch is failed");

  auto required = compile(R"(
    providers { key: "p" value { local_jwks { inline_string: ')" + testing::jwksOf({&rsaKey()}) + R"(' } } }
    requirement_map { key: "need-p" value { provider_name: "p" } }
    rules { match { prefix: "/" } requirement_name: "need-p" }
    bypass_cors_preflight: true)");
  CHECK(failure(*required, "") == "Jwt is missing");
  Headers preflight;
  preflight.h["origin"] = "https://app.example.com";
  preflight.h["access-control-request-method"] = "POST";
  CHECK(required->verify(JwtRequest{"OPTIONS", "/", &preflight}, kNow).allowed);
  CHECK_FALSE(required->verify(JwtRequest{"OPTIONS", "/", nullptr}, kNow).allowed);
  // A provider without an issuer accepts any issuer its keys sign for.
  CHECK(run(*required, rsaKey().sign(claims({{"iss", "anyone"}}), "RS256")).allowed);
}

TEST_CASE("jwt: local_jwks from a file") {
  std::string path = (std::filesystem::temp_directory_path() / ("jwks-" + std::to_string(::getpid()) + ".json")).string();
  {
    std::ofstream out(path);
    out << testing::jwksOf({&ecKey()});
  }
  auto f = compile(R"(providers { key: "p" value { issuer: "https://issuer.example.com" local_jwks { filename: ")" + path +
                   R"(" } } } rules { match { prefix: "/" } requires { provider_name: "p" } })");
  std::filesystem::remove(path);
  CHECK(run(*f, ecKey().sign(claims(), "ES256")).allowed);
  CHECK(compileError(R"(providers { key: "p" value { local_jwks { filename: "/nonexistent/jwks.json" } } })")
            .find("local_jwks.filename: cannot read") != std::string::npos);
}

TEST_CASE("jwt: config errors NACK") {
  CHECK(compileError(R"(providers { key: "p" value { local_jwks { inline_string: "{}" } } })")
            .find("jwt_authn.providers[p].local_jwks: invalid JWKS") != std::string::npos);
  CHECK(compileError(R"(providers { key: "p" value { local_jwks { inline_string: '{"keys":[{"kty":"RSA","n":"AQAB"}]}' } } })")
            .find("RSA key needs base64url n and e") != std::string::npos);
  CHECK(compileError(R"(providers { key: "p" value { issuer: "i" } })").find("needs local_jwks or remote_jwks") !=
        std::string::npos);
  CHECK(compileError(R"(rules { match { prefix: "/" } requires { provider_name: "ghost" } })")
            .find("rules[0].requires.provider_name: unknown provider 'ghost'") != std::string::npos);
  CHECK(compileError(R"(rules { match { prefix: "/" } requirement_name: "ghost" })").find("requirement_map") !=
        std::string::npos);
  CHECK(compileError(R"(rules { match { prefix: "/" query_parameters { name: "q" } } })").find("query_parameters") !=
        std::string::npos);
  std::string huge = std::string(R"({"keys":[],"pad":")") + std::string(300 * 1024, 'x') + "\"}";
  CHECK(compileError(R"(providers { key: "p" value { local_jwks { inline_string: ')" + huge + "' } } }")
            .find("larger than") != std::string::npos);
}
