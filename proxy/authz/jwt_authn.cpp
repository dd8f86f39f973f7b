#include "proxy/authz/jwt_authn.h"

// RouteMatch and HeaderMatcher fields Envoy deprecated are still what control planes send.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "proxy/authz/jwks.h"
#include "proxy/authz/matchers.h"

namespace mesh::proxy::authz {

namespace jv3 = envoy::extensions::filters::http::jwt_authn::v3;

namespace {

// jwt_verify_lib's statuses that this filter reports, with Envoy's texts.
enum class Status {
  Ok, Missed, Expired, NotYetValid, BadFormat, HeaderBadBase64, HeaderBadJson, HeaderBadAlg, HeaderNotImplementedAlg,
  HeaderBadKid, PayloadBadBase64, PayloadBadJson, IssNotString, ExpNotInteger, NbfNotInteger, AudNotString,
  SignatureBadBase64, UnknownIssuer, AudienceNotAllowed, KidAlgMismatch, VerificationFail, JwksFetchFail,
};

const char* statusText(Status s) {
  switch (s) {
    case Status::Ok: return "OK";
    case Status::Missed: return "Jwt is missing";
    case Status::Expired: return "Jwt is expired";
    case Status::NotYetValid: return "Jwt not yet valid";
    case Status::BadFormat: return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    case Status::HeaderBadBase64: return "Jwt header is an invalid Base64url encoded";
    case Status::HeaderBadJson: return "Jwt header is an invalid JSON";
    case Status::HeaderBadAlg: return "Jwt header [alg] field is required and must be a string";
    case Status::HeaderNotImplementedAlg: return "Jwt header [alg] is not supported";
    case Status::HeaderBadKid: return "Jwt header [kid] field is not a string";
    case Status::PayloadBadBase64: return "Jwt payload is an invalid Base64url encoded";
    case Status::PayloadBadJson: return "Jwt payload is an invalid JSON";
    case Status::IssNotString: return "Jwt payload [iss] field is not a string";
    case Status::ExpNotInteger: return "Jwt payload [exp] field is not an integer";
    case Status::NbfNotInteger: return "Jwt payload [nbf] field is not an integer";
    case Status::AudNotString: return "Jwt payload [aud] field is not a string or string list";
    case Status::SignatureBadBase64: return "Jwt signature is an invalid Base64url encoded";
    case Status::UnknownIssuer: return "Jwt issuer is not configured";
    case Status::AudienceNotAllowed: return "Audiences in Jwt are not allowed";
    case Status::KidAlgMismatch: return "Jwks doesn't have key to match kid or alg from Jwt";
    case Status::VerificationFail: return "Jwt verification fails";
    case Status::JwksFetchFail: return "Jwks remote fetch is failed";
  }
  return "Jwt verification fails";
}

// Envoy compares audiences without scheme and trailing slash ("https://a.com/" is "a.com").
std::string normalizeAudience(std::string_view a) {
  if (a.starts_with("https://")) a.remove_prefix(8);
  else if (a.starts_with("http://")) a.remove_prefix(7);
  while (a.ends_with('/')) a.remove_suffix(1);
  return std::string(a);
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  }
  return true;
}

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '=';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of `name` in "a=1&b=2" or "a=1; b=2" (separator `sep`).
std::optional<std::string_view> pairValue(std::string_view list, char sep, std::string_view name) {
  while (!list.empty()) {
    size_t end = list.find(sep);
    std::string_view pair = trim(list.substr(0, end));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return std::nullopt;
}

Result<std::string> readDataSource(const envoy::config::core::v3::DataSource& ds, const std::string& where) {
  using DS = envoy::config::core::v3::DataSource;
  switch (ds.specifier_case()) {
    case DS::kInlineString: return ds.inline_string();
    case DS::kInlineBytes: return ds.inline_bytes();
    case DS::kFilename: {
      std::ifstream in(ds.filename(), std::ios::binary);
      if (!in) return configError(where + ".filename", "cannot read " + ds.filename());
      std::string data(kMaxJwksBytes + 1, '\0');
      in.read(data.data(), static_cast<std::streamsize>(data.size()));
      data.resize(static_cast<size_t>(in.gcount()));
      return data;
    }
    default: return configError(where, "needs inline_string, inline_bytes or filename");
  }
}

}  // namespace

struct JwtAuthn::Provider {
  struct HeaderLocation {
    std::string name;  // lower case
    std::string prefix;
  };
  std::string name;
  std::string issuer;  // empty: any issuer
  std::vector<std::string> audiences;  // normalised
  std::shared_ptr<const Jwks> jwks;    // null: remote JWKS, not fetched here
  bool forward = false;
  std::string forwardPayloadHeader;
  bool padForwardPayloadHeader = false;
  std::string payloadInMetadata;
  std::string headerInMetadata;
  std::vector<HeaderLocation> fromHeaders;
  std::vector<std::string> fromParams;
  std::vector<std::string> fromCookies;
  std::vector<std::pair<std::string, std::string>> claimToHeaders;  // header (lower case), claim
  int64_t clockSkew = 60;
  std::set<std::string, std::less<>> spaceDelimitedClaims;
};

struct JwtAuthn::Requirement {
  enum class Kind { Provider, Any, All, AllowMissing, AllowMissingOrFailed, Pass };
  Kind kind = Kind::Pass;
  const Provider* provider = nullptr;
  std::optional<std::vector<std::string>> audiences;  // provider_and_audiences
  std::vector<Requirement> children;
};

struct JwtAuthn::Rule {
  enum class PathKind { Prefix, Path, Regex, PathSeparatedPrefix };
  PathKind kind = PathKind::Prefix;
  std::string path;
  std::shared_ptr<const re2::RE2> regex;
  bool caseSensitive = true;
  std::vector<HeaderMatcher> headers;
  std::optional<Requirement> requirement;  // none: the rule requires nothing

  bool matches(const JwtRequest& r) const {
    std::string_view full = r.path;
    std::string_view onlyPath = pathWithoutQuery(full);
    std::string lowered;
    auto cased = [&](std::string_view s) -> std::string_view {
      if (caseSensitive) return s;
      lowered = lowerCase(s);
      return lowered;
    };
    bool hit = false;
    switch (kind) {
      case PathKind::Prefix: hit = cased(full).starts_with(path); break;
      case PathKind::Path: hit = cased(onlyPath) == path; break;
      case PathKind::Regex: hit = re2::RE2::FullMatch(onlyPath, *regex); break;
      case PathKind::PathSeparatedPrefix: {
        std::string_view p = cased(onlyPath);
        hit = p == path || (p.size() > path.size() && p.starts_with(path) && p[path.size()] == '/');
        break;
      }
    }
    if (!hit) return false;
    for (const HeaderMatcher& h : headers) {
      if (r.headers == nullptr || !h.matches(*r.headers)) return false;
    }
    return true;
  }
};

namespace {

using Provider = JwtAuthn::Provider;
using Requirement = JwtAuthn::Requirement;

struct Token {
  std::string value;
  std::string header;  // the header it came from; empty for a query parameter or cookie
};

void addToken(std::vector<Token>& out, Token t) {
  for (const Token& seen : out) {
    if (seen.value == t.value && seen.header == t.header) return;
  }
  out.push_back(std::move(t));
}

void extract(const Provider& p, const JwtRequest& r, std::vector<Token>& out) {
  bool defaults = p.fromHeaders.empty() && p.fromParams.empty() && p.fromCookies.empty();
  static const std::vector<Provider::HeaderLocation> kDefaultHeaders = {{"authorization", "Bearer "}};
  static const std::vector<std::string> kDefaultParams = {"access_token"};
  const auto& headers = defaults ? kDefaultHeaders : p.fromHeaders;
  const auto& params = defaults ? kDefaultParams : p.fromParams;
  if (r.headers != nullptr) {
    for (const auto& h : headers) {
      auto value = r.headers->get(h.name);
      if (!value) continue;
      std::string_view v = trim(*value);
      if (!h.prefix.empty()) {
        if (!startsWithIgnoreCase(v, h.prefix)) continue;
        v.remove_prefix(h.prefix.size());
        size_t end = 0;
        while (end < v.size() && isTokenChar(v[end])) ++end;
        v = v.substr(0, end);
      }
      if (!v.empty()) addToken(out, Token{std::string(v), h.name});
    }
    if (!p.fromCookies.empty()) {
      if (auto cookies = r.headers->get("cookie")) {
        for (const std::string& c : p.fromCookies) {
          if (auto v = pairValue(*cookies, ';', c); v && !v->empty()) addToken(out, Token{std::string(*v), ""});
        }
      }
    }
  }
  size_t q = r.path.find('?');
  if (q != std::string_view::npos) {
    std::string_view query = r.path.substr(q + 1);
    query = query.substr(0, query.find('#'));
    for (const std::string& name : params) {
      if (auto v = pairValue(query, '&', name); v && !v->empty()) addToken(out, Token{std::string(*v), ""});
    }
  }
}

std::optional<int64_t> integerClaim(const nlohmann::json& payload, const char* name, bool& bad) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::nullopt;
  if (!it->is_number_integer()) {
    bad = true;
    return std::nullopt;
  }
  return it->get<int64_t>();
}

// Space-delimited claims ("scope": "a b") become lists, as normalize_payload_in_metadata says.
nlohmann::json normalizedPayload(const Provider& p, const nlohmann::json& payload) {
  nlohmann::json out = payload;
  for (auto& [key, value] : out.items()) {
    if (!value.is_string() || !p.spaceDelimitedClaims.contains(key)) continue;
    nlohmann::json list = nlohmann::json::array();
    std::istringstream words(value.get<std::string>());
    for (std::string w; words >> w;) list.push_back(w);
    value = std::move(list);
  }
  return out;
}

std::optional<std::string> claimAsHeader(const nlohmann::json& payload, std::string_view claim) {
  const nlohmann::json* at = &payload;
  while (!claim.empty()) {
    size_t dot = claim.find('.');
    std::string key(claim.substr(0, dot));
    if (!at->is_object()) return std::nullopt;
    auto it = at->find(key);
    if (it == at->end()) return std::nullopt;
    at = &*it;
    claim = dot == std::string_view::npos ? std::string_view() : claim.substr(dot + 1);
  }
  if (at->is_string()) return at->get<std::string>();
  if (at->is_boolean()) return at->get<bool>() ? "true" : "false";
  if (at->is_number_integer()) return std::to_string(at->get<int64_t>());
  if (at->is_number()) return at->dump();
  return std::nullopt;
}

struct Context {
  const JwtRequest& request;
  int64_t now;
  const std::vector<std::shared_ptr<const Provider>>& providers;
  JwtResult& out;
  std::set<std::pair<const Provider*, std::string>> applied;
};

// One token against the providers it may belong to, in jwt_verify_lib's order: format, issuer,
// time, audiences, key, signature. On success the provider's outputs are applied once.
Status verifyToken(Context& ctx, const Token& token, const std::vector<const Provider*>& allowed,
                   const std::vector<std::string>* audiences) {
  if (token.value.size() > kMaxTokenBytes) return Status::VerificationFail;
  std::string_view t = token.value;
  size_t d1 = t.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : t.find('.', d1 + 1);
  if (d2 == std::string_view::npos || t.find('.', d2 + 1) != std::string_view::npos) return Status::BadFormat;
  std::string_view headerPart = t.substr(0, d1), payloadPart = t.substr(d1 + 1, d2 - d1 - 1), sigPart = t.substr(d2 + 1);

  auto headerBytes = base64UrlDecode(headerPart);
  if (!headerBytes) return Status::HeaderBadBase64;
  auto header = parseBoundedJson(*headerBytes);
  if (!header || !header->is_object()) return Status::HeaderBadJson;
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return Status::HeaderBadAlg;
  const std::string& algName = alg->get_ref<const std::string&>();
  auto jwsAlg = jwsAlgFromName(algName);
  if (!jwsAlg) return Status::HeaderNotImplementedAlg;  // "none" and HMAC included
  std::string kid;
  if (auto k = header->find("kid"); k != header->end()) {
    if (!k->is_string()) return Status::HeaderBadKid;
    kid = k->get<std::string>();
  }

  auto payloadBytes = base64UrlDecode(payloadPart);
  if (!payloadBytes) return Status::PayloadBadBase64;
  auto payload = parseBoundedJson(*payloadBytes);
  if (!payload || !payload->is_object()) return Status::PayloadBadJson;
  std::string iss;
  if (auto i = payload->find("iss"); i != payload->end()) {
    if (!i->is_string()) return Status::IssNotString;
    iss = i->get<std::string>();
  }
  bool bad = false;
  auto exp = integerClaim(*payload, "exp", bad);
  if (bad) return Status::ExpNotInteger;
  auto nbf = integerClaim(*payload, "nbf", bad);
  if (bad) return Status::NbfNotInteger;
  std::vector<std::string> tokenAudiences;
  if (auto a = payload->find("aud"); a != payload->end()) {
    if (a->is_string()) {
      tokenAudiences.push_back(normalizeAudience(a->get<std::string>()));
    } else if (a->is_array()) {
      for (const auto& item : *a) {
        if (!item.is_string()) return Status::AudNotString;
        tokenAudiences.push_back(normalizeAudience(item.get<std::string>()));
      }
    } else {
      return Status::AudNotString;
    }
  }
  auto signature = base64UrlDecode(sigPart);
  if (!signature) return Status::SignatureBadBase64;

  const Provider* provider = nullptr;
  for (const Provider* p : allowed) {
    if (p->issuer.empty() || p->issuer == iss) {
      provider = p;
      break;
    }
  }
  if (provider == nullptr) return Status::UnknownIssuer;

  if (exp && ctx.now > *exp + provider->clockSkew) return Status::Expired;
  if (nbf && *nbf > ctx.now + provider->clockSkew) return Status::NotYetValid;

  const std::vector<std::string>& wanted = audiences != nullptr ? *audiences : provider->audiences;
  if (!wanted.empty()) {
    bool any = std::any_of(tokenAudiences.begin(), tokenAudiences.end(), [&](const std::string& a) {
      return std::find(wanted.begin(), wanted.end(), a) != wanted.end();
    });
    if (!any) return Status::AudienceNotAllowed;
  }

  if (!provider->jwks) return Status::JwksFetchFail;
  std::string_view signingInput = t.substr(0, d2);
  switch (provider->jwks->verify(*jwsAlg, algName, kid, signingInput, *signature)) {
    case Jwks::Verdict::Ok: break;
    case Jwks::Verdict::NoMatchingKey: return Status::KidAlgMismatch;
    case Jwks::Verdict::BadSignature: return Status::VerificationFail;
  }

  if (ctx.applied.emplace(provider, token.value).second) {
    JwtResult& out = ctx.out;
    auto& meta = out.metadata[kJwtAuthnFilterName];
    if (!provider->payloadInMetadata.empty()) meta[provider->payloadInMetadata] = normalizedPayload(*provider, *payload);
    if (!provider->headerInMetadata.empty()) meta[provider->headerInMetadata] = *header;
    if (!provider->forward && !token.header.empty()) out.removeHeaders.push_back(token.header);
    if (!provider->forwardPayloadHeader.empty()) {
      std::string value(payloadPart);
      while (provider->padForwardPayloadHeader && value.size() % 4 != 0) value.push_back('=');
      out.setHeaders.emplace_back(provider->forwardPayloadHeader, std::move(value));
    }
    for (const auto& [headerName, claim] : provider->claimToHeaders) {
      if (auto v = claimAsHeader(*payload, claim)) out.setHeaders.emplace_back(headerName, std::move(*v));
    }
  }
  return Status::Ok;
}

Status authenticate(Context& ctx, const std::vector<Token>& tokens, const std::vector<const Provider*>& allowed,
                    const std::vector<std::string>* audiences) {
  if (tokens.empty()) return Status::Missed;
  bool ok = false;
  for (const Token& t : tokens) {
    Status s = verifyToken(ctx, t, allowed, audiences);
    if (s == Status::Ok) ok = true;
    else if (s != Status::UnknownIssuer) return s;  // a token of a configured issuer that fails
  }
  return ok ? Status::Ok : Status::UnknownIssuer;
}

Status evaluate(const Requirement& r, Context& ctx) {
  switch (r.kind) {
    case Requirement::Kind::Pass: return Status::Ok;
    case Requirement::Kind::Provider: {
      std::vector<Token> tokens;
      extract(*r.provider, ctx.request, tokens);
      return authenticate(ctx, tokens, {r.provider}, r.audiences ? &*r.audiences : nullptr);
    }
    case Requirement::Kind::Any: {
      // Envoy: allow_missing / allow_missing_or_failed among the alternatives are flags, not
      // verifiers. OK at the first child that is; otherwise errors other than "missing" and
      // "unknown issuer" (a token meant for another provider) win, then "unknown issuer".
      bool allowMissing = false, allowFailed = false;
      std::vector<const Requirement*> verifiers;
      for (const Requirement& c : r.children) {
        if (c.kind == Requirement::Kind::AllowMissing) allowMissing = true;
        else if (c.kind == Requirement::Kind::AllowMissingOrFailed) allowFailed = true;
        else verifiers.push_back(&c);
      }
      if (verifiers.empty()) {
        Requirement alone;
        alone.kind = allowFailed ? Requirement::Kind::AllowMissingOrFailed : Requirement::Kind::AllowMissing;
        return r.children.empty() ? Status::Missed : evaluate(alone, ctx);
      }
      Status final = Status::Missed;
      for (const Requirement* c : verifiers) {
        Status s = evaluate(*c, ctx);
        if (s == Status::Ok) return Status::Ok;
        if ((s != Status::Missed && s != Status::UnknownIssuer) || final == Status::Missed) final = s;
      }
      if (allowFailed || (allowMissing && final == Status::Missed)) return Status::Ok;
      return final;
    }
    case Requirement::Kind::All:
      for (const Requirement& c : r.children) {
        Status s = evaluate(c, ctx);
        if (s != Status::Ok) return s;
      }
      return Status::Ok;
    case Requirement::Kind::AllowMissing:
    case Requirement::Kind::AllowMissingOrFailed: {
      std::vector<Token> tokens;
      std::vector<const Provider*> all;
      for (const auto& p : ctx.providers) {
        extract(*p, ctx.request, tokens);
        all.push_back(p.get());
      }
      Status s = authenticate(ctx, tokens, all, nullptr);
      if (r.kind == Requirement::Kind::AllowMissingOrFailed || s == Status::Missed) return Status::Ok;
      return s;
    }
  }
  return Status::VerificationFail;
}

Result<Requirement> compileRequirement(const jv3::JwtRequirement& r, const std::map<std::string, const Provider*>& byName,
                                       const std::string& where, int depth) {
  if (depth > 8) return configError(where, "requirements nest too deeply");
  Requirement out;
  auto provider = [&](const std::string& name, const std::string& field) -> Result<const Provider*> {
    auto it = byName.find(name);
    if (it == byName.end()) return configError(where + "." + field, "unknown provider '" + name + "'");
    return it->second;
  };
  auto children = [&](const auto& list, const std::string& field) -> Result<void> {
    for (int i = 0; i < list.size(); ++i) {
      auto c = compileRequirement(list[i], byName, where + "." + field + "[" + std::to_string(i) + "]", depth + 1);
      if (!c) return Failure(c.error());
      out.children.push_back(std::move(*c));
    }
    return {};
  };
  switch (r.requires_type_case()) {
    case jv3::JwtRequirement::kProviderName: {
      auto p = provider(r.provider_name(), "provider_name");
      if (!p) return Failure(p.error());
      out.kind = Requirement::Kind::Provider;
      out.provider = *p;
      break;
    }
    case jv3::JwtRequirement::kProviderAndAudiences: {
      auto p = provider(r.provider_and_audiences().provider_name(), "provider_and_audiences.provider_name");
      if (!p) return Failure(p.error());
      out.kind = Requirement::Kind::Provider;
      out.provider = *p;
      out.audiences.emplace();
      for (const auto& a : r.provider_and_audiences().audiences()) out.audiences->push_back(normalizeAudience(a));
      break;
    }
    case jv3::JwtRequirement::kRequiresAny: {
      out.kind = Requirement::Kind::Any;
      auto ok = children(r.requires_any().requirements(), "requires_any.requirements");
      if (!ok) return Failure(ok.error());
      break;
    }
    case jv3::JwtRequirement::kRequiresAll: {
      out.kind = Requirement::Kind::All;
      auto ok = children(r.requires_all().requirements(), "requires_all.requirements");
      if (!ok) return Failure(ok.error());
      break;
    }
    case jv3::JwtRequirement::kAllowMissing: out.kind = Requirement::Kind::AllowMissing; break;
    case jv3::JwtRequirement::kAllowMissingOrFailed: out.kind = Requirement::Kind::AllowMissingOrFailed; break;
    default: out.kind = Requirement::Kind::Pass; break;  // Envoy: an empty requirement verifies nothing
  }
  return out;
}

Result<std::shared_ptr<const Provider>> compileProvider(const std::string& name, const jv3::JwtProvider& p,
                                                        const std::string& where) {
  if (p.has_subjects()) return configError(where + ".subjects", "not supported");
  if (p.has_max_lifetime()) return configError(where + ".max_lifetime", "not supported");
  if (p.require_expiration()) return configError(where + ".require_expiration", "not supported");
  if (!p.failed_status_in_metadata().empty()) return configError(where + ".failed_status_in_metadata", "not supported");
  auto out = std::make_shared<Provider>();
  out->name = name;
  out->issuer = p.issuer();
  for (const auto& a : p.audiences()) out->audiences.push_back(normalizeAudience(a));
  if (p.has_local_jwks()) {
    auto text = readDataSource(p.local_jwks(), where + ".local_jwks");
    if (!text) return Failure(text.error());
    auto jwks = Jwks::parse(*text);
    if (!jwks) return configError(where + ".local_jwks", jwks.error().message);
    out->jwks = *jwks;
  } else if (!p.has_remote_jwks()) {
    return configError(where, "needs local_jwks or remote_jwks");
  }
  out->forward = p.forward();
  out->forwardPayloadHeader = lowerCase(p.forward_payload_header());
  out->padForwardPayloadHeader = p.pad_forward_payload_header();
  out->payloadInMetadata = p.payload_in_metadata();
  out->headerInMetadata = p.header_in_metadata();
  for (const auto& h : p.from_headers()) {
    if (h.name().empty()) return configError(where + ".from_headers", "empty header name");
    out->fromHeaders.push_back({lowerCase(h.name()), h.value_prefix()});
  }
  for (const auto& q : p.from_params()) out->fromParams.push_back(q);
  for (const auto& c : p.from_cookies()) out->fromCookies.push_back(c);
  for (const auto& c : p.claim_to_headers()) {
    if (c.header_name().empty() || c.claim_name().empty()) return configError(where + ".claim_to_headers", "needs header_name and claim_name");
    out->claimToHeaders.emplace_back(lowerCase(c.header_name()), c.claim_name());
  }
  if (p.clock_skew_seconds() != 0) out->clockSkew = p.clock_skew_seconds();
  for (const auto& c : p.normalize_payload_in_metadata().space_delimited_claims()) out->spaceDelimitedClaims.insert(c);
  return std::shared_ptr<const Provider>(std::move(out));
}

Result<JwtAuthn::Rule> compileRule(const jv3::RequirementRule& r, const std::map<std::string, const Provider*>& byName,
                                   const jv3::JwtAuthentication& config, const std::string& where) {
  using RM = envoy::config::route::v3::RouteMatch;
  JwtAuthn::Rule out;
  const RM& m = r.match();
  std::string mw = where + ".match";
  if (m.query_parameters_size() > 0) return configError(mw + ".query_parameters", "not supported");
  if (m.has_runtime_fraction() || m.has_grpc() || m.has_tls_context() || m.dynamic_metadata_size() > 0) {
    return configError(mw, "only path and header matches are supported");
  }
  out.caseSensitive = !m.has_case_sensitive() || m.case_sensitive().value();
  auto cased = [&](const std::string& s) { return out.caseSensitive ? s : lowerCase(s); };
  switch (m.path_specifier_case()) {
    case RM::kPrefix: out.kind = JwtAuthn::Rule::PathKind::Prefix; out.path = cased(m.prefix()); break;
    case RM::kPath: out.kind = JwtAuthn::Rule::PathKind::Path; out.path = cased(m.path()); break;
    case RM::kPathSeparatedPrefix:
      out.kind = JwtAuthn::Rule::PathKind::PathSeparatedPrefix;
      out.path = cased(m.path_separated_prefix());
      break;
    case RM::kSafeRegex: {
      auto re = compileRegex(m.safe_regex().regex(), mw + ".safe_regex");
      if (!re) return Failure(re.error());
      out.kind = JwtAuthn::Rule::PathKind::Regex;
      out.regex = *re;
      break;
    }
    default: return configError(mw, "needs prefix, path, path_separated_prefix or safe_regex");
  }
  for (int i = 0; i < m.headers_size(); ++i) {
    auto h = compileHeaderMatcher(m.headers(i), mw + ".headers[" + std::to_string(i) + "]");
    if (!h) return Failure(h.error());
    out.headers.push_back(std::move(*h));
  }
  switch (r.requirement_type_case()) {
    case jv3::RequirementRule::kRequires: {
      auto req = compileRequirement(r.requires_(), byName, where + ".requires", 0);
      if (!req) return Failure(req.error());
      out.requirement = std::move(*req);
      break;
    }
    case jv3::RequirementRule::kRequirementName: {
      auto it = config.requirement_map().find(r.requirement_name());
      if (it == config.requirement_map().end()) {
        return configError(where + ".requirement_name", "'" + r.requirement_name() + "' is not in requirement_map");
      }
      auto req = compileRequirement(it->second, byName, "requirement_map[" + r.requirement_name() + "]", 0);
      if (!req) return Failure(req.error());
      out.requirement = std::move(*req);
      break;
    }
    default: break;
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const JwtAuthn>> JwtAuthn::compile(const jv3::JwtAuthentication& config, const std::string& where) {
  if (config.has_filter_state_rules()) return configError(where + ".filter_state_rules", "not supported");
  if (config.strip_failure_response()) return configError(where + ".strip_failure_response", "not supported");
  auto out = std::make_shared<JwtAuthn>();
  std::map<std::string, const jv3::JwtProvider*> sorted;
  for (const auto& [name, p] : config.providers()) sorted.emplace(name, &p);
  std::map<std::string, const Provider*> byName;
  std::set<std::string> sanitized;
  for (const auto& [name, p] : sorted) {
    auto compiled = compileProvider(name, *p, where + ".providers[" + name + "]");
    if (!compiled) return Failure(compiled.error());
    byName[name] = compiled->get();
    if (!(*compiled)->forwardPayloadHeader.empty()) sanitized.insert((*compiled)->forwardPayloadHeader);
    for (const auto& [header, claim] : (*compiled)->claimToHeaders) sanitized.insert(header);
    out->providers_.push_back(*compiled);
  }
  for (int i = 0; i < config.rules_size(); ++i) {
    auto rule = compileRule(config.rules(i), byName, config, where + ".rules[" + std::to_string(i) + "]");
    if (!rule) return Failure(rule.error());
    out->rules_.push_back(std::make_shared<const Rule>(std::move(*rule)));
  }
  out->sanitizedHeaders_.assign(sanitized.begin(), sanitized.end());
  out->bypassCorsPreflight_ = config.bypass_cors_preflight();
  return std::shared_ptr<const JwtAuthn>(std::move(out));
}

JwtResult JwtAuthn::verify(const JwtRequest& request, int64_t nowSeconds) const {
  JwtResult out;
  // Headers only a verified token may set never come from the client.
  out.removeHeaders = sanitizedHeaders_;
  if (bypassCorsPreflight_ && request.method == "OPTIONS" && request.headers != nullptr &&
      request.headers->get("origin") && request.headers->get("access-control-request-method")) {
    return out;
  }
  const Rule* rule = nullptr;
  for (const auto& r : rules_) {
    if (r->matches(request)) {
      rule = r.get();
      break;
    }
  }
  if (rule == nullptr || !rule->requirement) return out;
  Context ctx{request, nowSeconds, providers_, out, {}};
  Status s = evaluate(*rule->requirement, ctx);
  if (s != Status::Ok) {
    out.allowed = false;
    out.httpStatus = s == Status::AudienceNotAllowed ? 403 : 401;
    out.message = statusText(s);
    out.tokenMissing = s == Status::Missed;
    out.setHeaders.clear();
    out.metadata = nullptr;
  }
  return out;
}

}  // namespace mesh::proxy::authz
