#include "controlplane/xds/route_match.h"

#include <algorithm>

#include "controlplane/model/config_snapshot.h"
#include "controlplane/model/node_values.h"

namespace mesh::xds {
namespace {

using core::Node;
using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::RouteMatch;
using envoy::type::matcher::v3::StringMatcher;
using model::text;

enum class MatchKind { None, Exact, Prefix, Regex };

struct StringMatchValue {
  MatchKind kind = MatchKind::None;
  std::string_view value;
};

StringMatchValue readStringMatch(const Node* sm) {
  if (!sm) return {};
  if (const Node* n = sm->get("exact"); n && n->isScalar()) return {MatchKind::Exact, n->text()};
  if (const Node* n = sm->get("prefix"); n && n->isScalar()) return {MatchKind::Prefix, n->text()};
  if (const Node* n = sm->get("regex"); n && n->isScalar()) return {MatchKind::Regex, n->text()};
  return {};
}

// Istio's canBeConvertedToPresentMatch: an empty match, or the non-RE2 regex "*", means "the
// header is present" (istio/istio#20629).
bool isPresentMatch(const Node* sm) {
  StringMatchValue v = readStringMatch(sm);
  return v.kind == MatchKind::None || (v.kind == MatchKind::Regex && v.value == "*");
}

MatchCondition::StringMatches readStringMatches(const Node* map) {
  MatchCondition::StringMatches out;
  if (!map) return out;
  for (const auto& e : map->entries()) out.insert_or_assign(std::string(e.key->text()), e.value);
  return out;
}

// gRPC 1.51 rejects HeaderMatcher.string_match; the old per-kind fields are deprecated in the
// proto (hence the pragma) but the only form every gRPC client reads.
void setLegacyHeaderValue(HeaderMatcher& m, const StringMatchValue& v) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  switch (v.kind) {
    case MatchKind::Exact: m.set_exact_match(std::string(v.value)); break;
    case MatchKind::Prefix: m.set_prefix_match(std::string(v.value)); break;
    case MatchKind::Regex: m.mutable_safe_regex_match()->set_regex(std::string(v.value)); break;
    case MatchKind::None: m.set_present_match(true); break;
  }
#pragma GCC diagnostic pop
}

HeaderMatcher headerMatcher(std::string_view name, const Node* sm, RouteFlavor flavor) {
  HeaderMatcher m;
  m.set_name(std::string(name));
  if (isPresentMatch(sm)) {
    m.set_present_match(true);
  } else if (flavor == RouteFlavor::ProxylessGrpc) {
    setLegacyHeaderValue(m, readStringMatch(sm));
  } else if (auto sm2 = stringMatcher(sm)) {
    *m.mutable_string_match() = *sm2;
  }
  return m;
}

// Istio routes on JWT claims with headers named "@request.auth.claims.a.b" or
// "@request.auth.claims[a][b]": a metadata match on the jwt_authn filter's payload.
std::optional<std::vector<std::string>> jwtClaimPath(std::string_view header) {
  constexpr std::string_view kPrefix = "@request.auth.claims";
  if (!header.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = header.substr(kPrefix.size());
  std::vector<std::string> out;
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    while (!rest.empty()) {
      auto dot = rest.find('.');
      out.emplace_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
  } else {
    while (rest.starts_with('[')) {
      auto close = rest.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      out.emplace_back(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
    }
    if (!rest.empty()) return std::nullopt;
  }
  if (out.empty() || std::ranges::any_of(out, &std::string::empty)) return std::nullopt;
  return out;
}

envoy::type::matcher::v3::MetadataMatcher claimMatcher(const std::vector<std::string>& claims, const Node* sm) {
  envoy::type::matcher::v3::MetadataMatcher m;
  m.set_filter("envoy.filters.http.jwt_authn");
  m.add_path()->set_key("payload");
  for (const std::string& c : claims) m.add_path()->set_key(c);
  envoy::type::matcher::v3::ValueMatcher value;
  if (auto s = stringMatcher(sm)) *value.mutable_string_match() = *s;
  else value.set_present_match(true);
  // A claim may be a string or a list of strings: match either (Istio's extended JWT matcher).
  auto* any = m.mutable_value()->mutable_or_match();
  *any->add_value_matchers()->mutable_list_match()->mutable_one_of() = value;
  *any->add_value_matchers() = value;
  return m;
}

void addHeader(RouteMatch& out, std::string_view name, const Node* sm, bool inverted, RouteFlavor flavor) {
  if (auto claims = jwtClaimPath(name)) {
    auto* m = out.add_dynamic_metadata();
    *m = claimMatcher(*claims, sm);
    m->set_invert(inverted);
    return;
  }
  HeaderMatcher m = headerMatcher(name, sm, flavor);
  if (inverted) {
    m.set_invert_match(true);
    // treat_missing_header_as_empty conflicts with present_match.
    if (!isPresentMatch(sm)) m.set_treat_missing_header_as_empty(true);
  }
  *out.add_headers() = std::move(m);
}

// Istio's stringMatchConflict: may a delegate's `leaf` match narrow the root's `root`?
bool stringMatchConflict(const Node* root, const Node* leaf) {
  if (!root || !leaf) return false;
  StringMatchValue r = readStringMatch(root), l = readStringMatch(leaf);
  if (r.kind == MatchKind::Regex || l.kind == MatchKind::Regex) return true;
  if (r.kind == MatchKind::Exact) return l.kind != MatchKind::Exact || l.value != r.value;
  if (r.kind == MatchKind::Prefix && (l.kind == MatchKind::Prefix || l.kind == MatchKind::Exact))
    return !l.value.starts_with(r.value);
  return true;
}

bool hasConflict(const MatchCondition& root, const MatchCondition& leaf) {
  if (stringMatchConflict(root.uri, leaf.uri) || stringMatchConflict(root.scheme, leaf.scheme) ||
      stringMatchConflict(root.method, leaf.method) || stringMatchConflict(root.authority, leaf.authority))
    return true;
  auto lookup = [](const MatchCondition::StringMatches& m, const std::string& k) -> const Node* {
    auto it = m.find(k);
    return it == m.end() ? nullptr : it->second;
  };
  for (const auto& [k, v] : leaf.headers)
    if (stringMatchConflict(lookup(root.headers, k), v)) return true;
  for (const auto& [k, v] : leaf.withoutHeaders)
    if (stringMatchConflict(lookup(root.headers, k), v)) return true;
  for (const auto& [k, v] : leaf.queryParams)
    if (stringMatchConflict(lookup(root.queryParams, k), v)) return true;
  if (root.ignoreUriCase != leaf.ignoreUriCase) return true;
  return root.port > 0 && leaf.port > 0 && root.port != leaf.port;
}

std::string joinNames(const std::string& root, const std::string& leaf) {
  if (leaf.empty()) return root;
  if (root.empty()) return leaf;
  return root + "-" + leaf;
}

}  // namespace

std::optional<StringMatcher> stringMatcher(const Node* sm) {
  StringMatchValue v = readStringMatch(sm);
  StringMatcher out;
  switch (v.kind) {
    case MatchKind::Exact: out.set_exact(std::string(v.value)); return out;
    case MatchKind::Prefix: out.set_prefix(std::string(v.value)); return out;
    case MatchKind::Regex: out.mutable_safe_regex()->set_regex(std::string(v.value)); return out;
    case MatchKind::None: break;
  }
  return std::nullopt;
}

MatchCondition MatchCondition::parse(const Node* match, std::string_view vsNamespace) {
  MatchCondition m;
  if (!match) return m;
  m.name = std::string(text(match, "name"));
  m.uri = match->get("uri");
  m.scheme = match->get("scheme");
  m.method = match->get("method");
  m.authority = match->get("authority");
  m.headers = readStringMatches(match->get("headers"));
  m.withoutHeaders = readStringMatches(match->get("withoutHeaders"));
  m.queryParams = readStringMatches(match->get("queryParams"));
  m.port = model::uint32At(match, "port").value_or(0);
  m.ignoreUriCase = model::boolAt(match, "ignoreUriCase").value_or(false);
  m.sourceLabels = match->get("sourceLabels");
  m.sourceNamespace = std::string(text(match, "sourceNamespace"));
  for (std::string& g : model::stringList(match->get("gateways")))
    m.gateways.push_back(g == "mesh" || g.find('/') != std::string::npos ? g : std::string(vsNamespace) + "/" + g);
  m.statPrefix = std::string(text(match, "statPrefix"));
  return m;
}

std::optional<MatchCondition> mergeMatch(const MatchCondition& root, const MatchCondition& leaf) {
  if (hasConflict(root, leaf)) return std::nullopt;
  MatchCondition out = leaf;
  out.name = joinNames(root.name, leaf.name);
  if (!out.uri) out.uri = root.uri;
  if (!out.scheme) out.scheme = root.scheme;
  if (!out.method) out.method = root.method;
  if (!out.authority) out.authority = root.authority;
  // The leaf's entries win over the root's of the same name.
  for (const auto& [k, v] : root.headers) out.headers.emplace(k, v);
  for (const auto& [k, v] : root.withoutHeaders) out.withoutHeaders.emplace(k, v);
  for (const auto& [k, v] : root.queryParams) out.queryParams.emplace(k, v);
  if (out.port == 0) out.port = root.port;
  // Delegates cannot set these; the root's still restrict where the merged route applies.
  if (!out.sourceLabels) out.sourceLabels = root.sourceLabels;
  if (out.sourceNamespace.empty()) out.sourceNamespace = root.sourceNamespace;
  if (out.gateways.empty()) out.gateways = root.gateways;
  if (out.statPrefix.empty()) out.statPrefix = root.statPrefix;
  return out;
}

bool matchApplies(const MatchCondition& match, const model::Proxy& proxy, std::string_view gateway,
                  uint32_t listenPort) {
  if (match.port != 0 && listenPort != 0 && match.port != listenPort) return false;
  if (!match.gateways.empty()) return std::ranges::find(match.gateways, gateway) != match.gateways.end();
  if (!model::selectorSelects(match.sourceLabels, proxy.labels)) return false;
  return match.sourceNamespace.empty() || match.sourceNamespace == proxy.namespace_;
}

RouteMatch translateMatch(const MatchCondition* match, RouteFlavor flavor) {
  RouteMatch out;
  out.set_prefix("/");
  if (!match) return out;
  // Headers (and withoutHeaders) by name, as Istio sorts them, then the pseudo-headers.
  std::vector<std::tuple<std::string_view, const Node*, bool>> headers;
  for (const auto& [k, v] : match->headers) headers.emplace_back(k, v, false);
  for (const auto& [k, v] : match->withoutHeaders) headers.emplace_back(k, v, true);
  std::ranges::stable_sort(headers, {}, [](const auto& h) { return std::get<0>(h); });
  for (const auto& [name, sm, inverted] : headers) addHeader(out, name, sm, inverted, flavor);
  StringMatchValue uri = readStringMatch(match->uri);
  switch (uri.kind) {
    case MatchKind::Exact: out.set_path(std::string(uri.value)); break;
    case MatchKind::Prefix: out.set_prefix(std::string(uri.value)); break;
    case MatchKind::Regex: out.mutable_safe_regex()->set_regex(std::string(uri.value)); break;
    case MatchKind::None: break;
  }
  out.mutable_case_sensitive()->set_value(!match->ignoreUriCase);
  if (match->method) *out.add_headers() = headerMatcher(":method", match->method, flavor);
  if (match->authority) *out.add_headers() = headerMatcher(":authority", match->authority, flavor);
  if (match->scheme) *out.add_headers() = headerMatcher(":scheme", match->scheme, flavor);
  for (const auto& [name, sm] : match->queryParams) {
    auto* q = out.add_query_parameters();
    q->set_name(name);
    if (isPresentMatch(sm)) q->set_present_match(true);
    else if (auto s = stringMatcher(sm)) *q->mutable_string_match() = *s;
  }
  return out;
}

bool isCatchAllRoute(const envoy::config::route::v3::Route& route) {
  const RouteMatch& m = route.match();
  bool all = false;
  switch (m.path_specifier_case()) {
    case RouteMatch::kPrefix: all = m.prefix() == "/"; break;
    case RouteMatch::kPathSeparatedPrefix: all = m.path_separated_prefix() == "/"; break;
    case RouteMatch::kSafeRegex: all = m.safe_regex().regex() == ".*"; break;
    default: break;
  }
  return all && m.headers_size() == 0 && m.query_parameters_size() == 0 && m.dynamic_metadata_size() == 0;
}

}  // namespace mesh::xds
