// JwtKeys: the JSON Web Key Sets meshd fetched for RequestAuthentication rules that name their
// keys by `jwksUri` or by `issuer` alone (OpenID discovery), as Istio's JwtKeyResolver holds them
// for its PushContext. Immutable once built (by controlplane/jwks); a snapshot carries one and
// any generator thread reads it.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace mesh::model {

struct JwtKeys {
  // jwksUri → the JWKS it served.
  std::map<std::string, std::string, std::less<>> byJwksUri;
  // issuer → the JWKS at the jwks_uri of its /.well-known/openid-configuration.
  std::map<std::string, std::string, std::less<>> byIssuer;

  // The keys for a jwtRule without inline `jwks`: by jwksUri when it has one, else by issuer.
  // nullptr when meshd has not (yet) fetched them.
  const std::string* find(std::string_view jwksUri, std::string_view issuer) const {
    const auto& table = jwksUri.empty() ? byIssuer : byJwksUri;
    auto it = table.find(jwksUri.empty() ? issuer : jwksUri);
    return it == table.end() ? nullptr : &it->second;
  }
  bool operator==(const JwtKeys&) const = default;
};

}  // namespace mesh::model
