#include "controlplane/xds/security/jwt_builder.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "controlplane/model/node_values.h"
#include "controlplane/xds/proto_util.h"
#include "controlplane/xds/security/policy_selection.h"
#include "controlplane/xds/security/rbac_matchers.h"

namespace mesh::xds::security {
namespace {

using core::Node;
using envoy::extensions::filters::http::jwt_authn::v3::JwtAuthentication;
using envoy::extensions::filters::http::jwt_authn::v3::JwtProvider;
using envoy::extensions::filters::http::jwt_authn::v3::JwtRequirement;
using model::items;
using model::stringList;
using model::text;

// Istio's fail-closed key set (CreateFakeJwks): an RSA public key whose private half was
// discarded when it was made, so no token verifies against it. A rule whose keys meshd could not
// (yet) fetch gets it: its tokens are rejected, and the listener is still valid.
constexpr std::string_view kUnusableJwks =
    R"({"keys":[{"kty":"RSA","kid":"meshd-unusable","alg":"RS256","e":"AQAB","n":")"
    "3Q1LZQmxGqNCAaP8IBSYnwZXpWTs73iJk-YXQB2VOUKB6lbQDugvFNSkYEbPtQSNoVFgNwHrj6zduF0057bE_WEO71DuCHNDkqqAthjT"
    "uqXrG4IsstpsQgDM6tzCE-weCgpvkdoyJ2129U3vrkIoKJkcFMOl-CBtQV6o8mEJkZPnnZr1VrGIkDhBDSVjyKNxGViZ9CUV5iGge0bC2le"
    "1k_VCE286lzB7l_zMcewoyz8ss6v_y96vsEyw-0tMnmJRAOna6Ou4D-u7eWS18l-ifiE8Qiwupj0_8uE2iQVz3z3SbruH1_ij_L9SbOEPPkT"
    "nSTUBaB36wJmYOCLCNeXAEw"
    R"("}]})";

// Istio's default (PILOT_JWT_ENABLE_REMOTE_JWKS off): the proxy never fetches keys itself.
// Inline `jwks` as given; otherwise the key set meshd fetched from `jwksUri`, or through the
// issuer's OpenID discovery document when there is no jwksUri (controlplane/jwks).
void setJwks(JwtProvider& provider, const Node* rule, const ProxyView& view) {
  std::string_view jwks = text(rule, "jwks");
  if (jwks.empty()) {
    const model::JwtKeys* keys = view.snapshot.options().jwtKeys.get();
    const std::string* fetched = keys ? keys->find(text(rule, "jwksUri"), text(rule, "issuer")) : nullptr;
    jwks = fetched ? std::string_view(*fetched) : kUnusableJwks;
  }
  provider.mutable_local_jwks()->set_inline_string(std::string(jwks));
}

JwtProvider provider(const Node* rule, const ProxyView& view) {
  JwtProvider p;
  p.set_issuer(std::string(text(rule, "issuer")));
  for (const std::string& a : stringList(rule->get("audiences"))) p.add_audiences(a);
  p.set_forward(model::boolAt(rule, "forwardOriginalToken").value_or(false));
  p.set_forward_payload_header(std::string(text(rule, "outputPayloadToHeader")));
  // The verified payload goes to dynamic metadata, where AuthorizationPolicy's
  // requestPrincipals and request.auth.* conditions read it.
  p.set_payload_in_metadata(std::string(kJwtPayloadKey));
  // Space-delimited claims ("scope": "a b") become lists there, so a claim condition can match
  // one scope; Istio's defaults plus any the rule names.
  std::vector<std::string> spaced = stringList(rule->get("spaceDelimitedClaims"));
  spaced.insert(spaced.end(), {"permission", "scope"});
  std::ranges::sort(spaced);
  spaced.erase(std::unique(spaced.begin(), spaced.end()), spaced.end());
  for (const std::string& c : spaced) p.mutable_normalize_payload_in_metadata()->add_space_delimited_claims(c);
  for (const Node* h : items(rule->get("fromHeaders"))) {
    auto* header = p.add_from_headers();
    header->set_name(std::string(text(h, "name")));
    header->set_value_prefix(std::string(text(h, "prefix")));
  }
  for (const std::string& q : stringList(rule->get("fromParams"))) p.add_from_params(q);
  for (const std::string& c : stringList(rule->get("fromCookies"))) p.add_from_cookies(c);
  for (const Node* c : items(rule->get("outputClaimToHeaders"))) {
    auto* out = p.add_claim_to_headers();
    out->set_header_name(std::string(text(c, "header")));
    out->set_claim_name(std::string(text(c, "claim")));
  }
  setJwks(p, rule, view);
  return p;
}

JwtRequirement providerNamed(const std::string& name) {
  JwtRequirement r;
  r.set_provider_name(name);
  return r;
}

}  // namespace

std::optional<JwtAuthentication> jwtAuthentication(const ProxyView& view) {
  std::vector<const Node*> rules;
  for (const core::Resource* p : workloadPolicies(view, "RequestAuthentication"))
    for (const Node* rule : items(p->spec()->get("jwtRules")))
      if (rule->isMapping()) rules.push_back(rule);
  if (rules.empty()) return std::nullopt;
  std::ranges::stable_sort(rules, {}, [](const Node* r) { return text(r, "issuer"); });

  JwtAuthentication out;
  // Per provider: {provider OR allow_missing}, so a missing token passes and a bad one fails.
  std::vector<JwtRequirement> eachValidIfPresent;
  JwtRequirement anyProvider;
  for (size_t i = 0; i < rules.size(); ++i) {
    std::string name = fmt::format("origins-{}", i);
    (*out.mutable_providers())[name] = provider(rules[i], view);
    JwtRequirement r;
    auto* any = r.mutable_requires_any();
    *any->add_requirements() = providerNamed(name);
    any->add_requirements()->mutable_allow_missing();
    eachValidIfPresent.push_back(std::move(r));
    *anyProvider.mutable_requires_any()->add_requirements() = providerNamed(name);
  }
  auto* rule = out.add_rules();
  rule->mutable_match()->set_prefix("/");
  if (eachValidIfPresent.size() == 1) {
    *rule->mutable_requires() = std::move(eachValidIfPresent.front());
  } else {
    // Several providers: any one verifying the token, OR all of {Pi OR missing}. The AND
    // rejects a present-but-invalid token; the outer OR lets providers that read the same
    // header pass (the AND alone would fail every token there: only one issuer can match).
    auto* all = anyProvider.mutable_requires_any()->add_requirements()->mutable_requires_all();
    for (JwtRequirement& r : eachValidIfPresent) *all->add_requirements() = std::move(r);
    *rule->mutable_requires() = std::move(anyProvider);
  }
  out.set_bypass_cors_preflight(true);
  return out;
}

std::optional<envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter> jwtAuthnFilter(
    const ProxyView& view) {
  auto config = jwtAuthentication(view);
  if (!config) return std::nullopt;
  envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter f;
  f.set_name(std::string(kJwtAuthnFilter));
  *f.mutable_typed_config() = pack(*config);
  return f;
}

}  // namespace mesh::xds::security
