#include "controlplane/xds/security/jwt_builder.h"

#include "controlplane/xds/security/security_filters.h"
#include "controlplane/xds/security/security_test_support.h"

namespace mesh::xds::security {
namespace {

using envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication;
using testing::checkEqual;
using testing::Mesh;
using testing::proxyIn;
using testing::textProto;
using testing::unpack;

}  // namespace

TEST_CASE("RequestAuthentication → jwt_authn: providers by issuer, inline and fetched JWKS, token options") {
  model::SnapshotOptions options;
  auto keys = std::make_shared<model::JwtKeys>();
  keys->byJwksUri["https://keys.a.example:8443/jwks.json"] = R"({"keys":[{"kty":"RSA","e":"AQAB","n":"fetched"}]})";
  options.jwtKeys = keys;
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: payments}}
  jwtRules:
  - issuer: "https://z.example"
    audiences: [payments, shop]
    jwks: '{"keys":[{"kty":"RSA","e":"AQAB","n":"abc"}]}'
    fromHeaders:
    - {name: x-jwt, prefix: "Bearer "}
    fromParams: [token]
    outputPayloadToHeader: x-jwt-payload
    forwardOriginalToken: true
    outputClaimToHeaders:
    - {header: x-user, claim: sub}
  - issuer: "https://a.example"
    jwksUri: "https://keys.a.example:8443/jwks.json"
    timeout: 2s
)yaml",
            proxyIn("shop", {{"app", "payments"}}), options);
  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 1);
  CHECK(filters[0].name() == "envoy.filters.http.jwt_authn");
  checkEqual(unpack<JwtAuthentication>(filters[0].typed_config()), textProto<JwtAuthentication>(R"pb(
    providers {
      key: "origins-0"
      value {
        issuer: "https://a.example"
        local_jwks { inline_string: "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"fetched\"}]}" }
        payload_in_metadata: "payload"
        normalize_payload_in_metadata { space_delimited_claims: ["permission", "scope"] }
      }
    }
    providers {
      key: "origins-1"
      value {
        issuer: "https://z.example"
        audiences: ["payments", "shop"]
        local_jwks { inline_string: "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"abc\"}]}" }
        forward: true
        from_headers { name: "x-jwt" value_prefix: "Bearer " }
        from_params: "token"
        forward_payload_header: "x-jwt-payload"
        payload_in_metadata: "payload"
        claim_to_headers { header_name: "x-user" claim_name: "sub" }
        normalize_payload_in_metadata { space_delimited_claims: ["permission", "scope"] }
      }
    }
    rules {
      match { prefix: "/" }
      requires {
        requires_any {
          requirements { provider_name: "origins-0" }
          requirements { provider_name: "origins-1" }
          requirements { requires_all {
            requirements { requires_any {
              requirements { provider_name: "origins-0" }
              requirements { allow_missing {} }
            } }
            requirements { requires_any {
              requirements { provider_name: "origins-1" }
              requirements { allow_missing {} }
            } }
          } }
        }
      }
    }
    bypass_cors_preflight: true)pb"));
}

TEST_CASE("RequestAuthentication: one provider allows a missing token, rejects a bad one; jwt_authn precedes RBAC") {
  Mesh mesh(R"yaml(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: mesh-jwt, namespace: istio-system}
spec:
  jwtRules:
  - issuer: "https://login.example"
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: shop}
spec:
  rules:
  - from: [{source: {requestPrincipals: ["*"]}}]
)yaml",
            proxyIn("shop", {}));
  auto config = jwtAuthentication(mesh.view());
  REQUIRE(config);
  checkEqual(config->rules(0), textProto<envoy::extensions::filters::http::jwt_authn::v3::RequirementRule>(R"pb(
    match { prefix: "/" }
    requires { requires_any {
      requirements { provider_name: "origins-0" }
      requirements { allow_missing {} }
    } })pb"));
  // Neither jwks nor jwksUri, and no keys discovered for the issuer yet: keys nobody holds, so
  // such tokens fail rather than pass.
  CHECK(config->providers().at("origins-0").local_jwks().inline_string().find("meshd-unusable") != std::string::npos);

  auto filters = inboundHttpSecurityFilters(mesh.view());
  REQUIRE(filters.size() == 2);
  CHECK(filters[0].name() == "envoy.filters.http.jwt_authn");
  CHECK(filters[1].name() == "envoy.filters.http.rbac");
  // No JWT on a TCP chain.
  REQUIRE(inboundTcpSecurityFilters(mesh.view()).size() == 1);
}

TEST_CASE("RequestAuthentication: keys by jwksUri or by issuer discovery once fetched, fail-closed keys before") {
  constexpr std::string_view kYaml = R"yaml(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  jwtRules:
  - issuer: "https://a.example"
    jwksUri: "https://a.example/keys"
  - issuer: "https://b.example"
)yaml";
  auto jwksOf = [](const Mesh& mesh, const std::string& provider) {
    auto config = jwtAuthentication(mesh.view());
    REQUIRE(config);
    const auto& p = config->providers().at(provider);
    CHECK_FALSE(p.has_remote_jwks());  // meshproxy, like Istio's default, never fetches keys itself
    return p.local_jwks().inline_string();
  };

  Mesh before(kYaml, proxyIn("shop", {}));
  CHECK(jwksOf(before, "origins-0").find("meshd-unusable") != std::string::npos);
  CHECK(jwksOf(before, "origins-1").find("meshd-unusable") != std::string::npos);

  model::SnapshotOptions options;
  auto keys = std::make_shared<model::JwtKeys>();
  keys->byJwksUri["https://a.example/keys"] = R"({"keys":[{"kid":"a"}]})";
  keys->byIssuer["https://b.example"] = R"({"keys":[{"kid":"b"}]})";
  // The issuer's entry is not used for a rule that names a jwksUri, and vice versa.
  keys->byIssuer["https://a.example"] = R"({"keys":[{"kid":"wrong"}]})";
  options.jwtKeys = keys;
  Mesh after(kYaml, proxyIn("shop", {}), options);
  CHECK(jwksOf(after, "origins-0") == R"({"keys":[{"kid":"a"}]})");
  CHECK(jwksOf(after, "origins-1") == R"({"keys":[{"kid":"b"}]})");
}

}  // namespace mesh::xds::security
