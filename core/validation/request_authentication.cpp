// RequestAuthentication rules, after Istio's ValidateRequestAuthentication and validateJwtRule:
// issuer, an http(s) jwksUri or parsable inline jwks, token locations, claim-to-header outputs.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/validation/duration.h"
#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/validators.h"

namespace mesh::core {

using namespace validation;

namespace {

std::string checkJwksUri(std::string_view uri) {
  std::string_view rest;
  if (uri.starts_with("https://")) rest = uri.substr(8);
  else if (uri.starts_with("http://")) rest = uri.substr(7);
  else return fmt::format("jwksUri \"{}\" must be an http:// or https:// URL", uri);
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.starts_with(':')) return fmt::format("jwksUri \"{}\" has no host", uri);
  for (char c : uri)
    if (c == ' ' || static_cast<unsigned char>(c) < 0x20) return fmt::format("jwksUri \"{}\" contains spaces or control characters", uri);
  return {};
}

void checkHeaderField(const Node* owner, std::string_view name, const std::string& path, ValidationContext& ctx) {
  const Node* n = field(owner, name);
  if (auto s = stringOf(n))
    if (std::string err = checkHeaderName(*s); !err.empty()) ctx.error(n, sub(path, name), err);
}

void checkNonEmptyStrings(const Node* owner, std::string_view name, std::string_view what, const std::string& path,
                          ValidationContext& ctx) {
  auto list = items(owner, name);
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i]->isScalar() && list[i]->text().empty()) ctx.error(list[i], at(sub(path, name), i), fmt::format("{} must not be empty", what));
}

}  // namespace

void validateRequestAuthentication(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  checkPolicyTargets(spec, ctx);
  auto rules = items(spec, "jwtRules");
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string p = at("spec.jwtRules", i);
    const Node* rule = rules[i];
    if (!isMap(rule)) continue;
    if (const Node* iss = field(rule, "issuer"); iss && iss->text().empty()) ctx.error(iss, sub(p, "issuer"), "issuer must not be empty");
    checkNonEmptyStrings(rule, "audiences", "audience", p, ctx);
    const Node* uri = field(rule, "jwksUri");
    if (auto u = stringOf(uri); u && !u->empty())
      if (std::string err = checkJwksUri(*u); !err.empty()) ctx.error(uri, sub(p, "jwksUri"), err);
    const Node* jwks = field(rule, "jwks");
    if (auto j = stringOf(jwks); j && !j->empty()) {
      auto parsed = nlohmann::json::parse(*j, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object())
        ctx.error(jwks, sub(p, "jwks"), "jwks is not a JSON Web Key Set (a JSON object)");
      else if (!parsed.contains("keys") && !parsed.contains("kty"))
        ctx.error(jwks, sub(p, "jwks"), "jwks needs a \"keys\" list (or a single key with \"kty\")");
    }
    auto headers = items(rule, "fromHeaders");
    for (size_t j = 0; j < headers.size(); ++j) {
      const Node* name = field(headers[j], "name");
      if (name && name->text().empty()) ctx.error(name, sub(at(sub(p, "fromHeaders"), j), "name"), "header name must not be empty");
      else checkHeaderField(headers[j], "name", at(sub(p, "fromHeaders"), j), ctx);
    }
    checkNonEmptyStrings(rule, "fromParams", "query parameter name", p, ctx);
    checkNonEmptyStrings(rule, "fromCookies", "cookie name", p, ctx);
    checkHeaderField(rule, "outputPayloadToHeader", p, ctx);
    auto claims = items(rule, "outputClaimToHeaders");
    for (size_t j = 0; j < claims.size(); ++j) {
      std::string cp = at(sub(p, "outputClaimToHeaders"), j);
      if (text(claims[j], "claim").empty() || text(claims[j], "header").empty()) {
        ctx.error(claims[j], cp, "outputClaimToHeaders needs both header and claim");
        continue;
      }
      checkHeaderField(claims[j], "header", cp, ctx);
    }
    checkIstioDuration(field(rule, "timeout"), sub(p, "timeout"), ctx);
  }
}

}  // namespace mesh::core
