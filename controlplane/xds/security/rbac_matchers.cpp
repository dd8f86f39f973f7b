#include "controlplane/xds/security/rbac_matchers.h"

#include <charconv>

#include <fmt/format.h>

#include "core/validation/net.h"

namespace mesh::xds::security {
namespace {

// RE2 metacharacters only, so regexes stay readable in config dumps ("spiffe://.*-sa").
std::string escapeRegex(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (std::string_view(R"(\.^$|?*+()[]{})").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

HeaderMatcher header(std::string_view name, std::string_view value, bool ignoreCase) {
  HeaderMatcher h;
  h.set_name(std::string(name));
  // "*" first: Envoy rejects an empty prefix or suffix.
  if (value == "*") h.set_present_match(true);
  else if (value.starts_with('*')) *h.mutable_string_match() = suffixMatch(value.substr(1), ignoreCase);
  else if (value.ends_with('*')) *h.mutable_string_match() = prefixMatch(value.substr(0, value.size() - 1), ignoreCase);
  else *h.mutable_string_match() = exactMatch(value, ignoreCase);
  return h;
}

// Istio's path templates as the RE2 Envoy's uri_template matcher compiles them to: {*} is one
// path segment of URL path characters, {**} the rest of the path (zero or more segments). A
// regex keeps the config within the protos meshd links (the uri_template extension's is not).
std::string pathTemplateRegex(std::string_view tmpl) {
  constexpr std::string_view kSegmentChars = "a-zA-Z0-9-._~%!$&'()+,;:@=";
  std::string out;
  while (!tmpl.empty()) {
    if (tmpl.starts_with("{**}")) {
      out += fmt::format("[{}/]*", kSegmentChars);
      tmpl.remove_prefix(4);
    } else if (tmpl.starts_with("{*}")) {
      out += fmt::format("[{}]+", kSegmentChars);
      tmpl.remove_prefix(3);
    } else {
      size_t next = tmpl.find('{');
      if (next == 0) next = 1;  // a stray brace is a literal
      out += escapeRegex(tmpl.substr(0, next));
      tmpl.remove_prefix(next == std::string_view::npos ? tmpl.size() : next);
    }
  }
  return out;
}

}  // namespace

StringMatcher regexMatcher(std::string regex) {
  StringMatcher m;
  // RE2 is Envoy's only engine; the google_re2 marker is deprecated.
  m.mutable_safe_regex()->set_regex(std::move(regex));
  return m;
}

StringMatcher exactMatch(std::string_view value, bool ignoreCase) {
  StringMatcher m;
  m.set_exact(std::string(value));
  m.set_ignore_case(ignoreCase);
  return m;
}

StringMatcher prefixMatch(std::string_view value, bool ignoreCase) {
  StringMatcher m;
  m.set_prefix(std::string(value));
  m.set_ignore_case(ignoreCase);
  return m;
}

StringMatcher suffixMatch(std::string_view value, bool ignoreCase) {
  StringMatcher m;
  m.set_suffix(std::string(value));
  m.set_ignore_case(ignoreCase);
  return m;
}

StringMatcher stringMatcher(std::string_view value, std::string_view prefix) {
  if (value == "*") return regexMatcher(".+");
  if (value.starts_with('*')) {
    if (prefix.empty()) return suffixMatch(value.substr(1));
    return regexMatcher(escapeRegex(prefix) + ".*" + escapeRegex(value.substr(1)));
  }
  if (value.ends_with('*')) return prefixMatch(fmt::format("{}{}", prefix, value.substr(0, value.size() - 1)));
  return exactMatch(fmt::format("{}{}", prefix, value));
}

HeaderMatcher headerMatcher(std::string_view name, std::string_view value) { return header(name, value, false); }

HeaderMatcher hostMatcher(std::string_view name, std::string_view value) { return header(name, value, true); }

PathMatcher pathMatcher(std::string_view value) {
  PathMatcher p;
  if (value.find("{*}") != std::string_view::npos || value.find("{**}") != std::string_view::npos)
    *p.mutable_path() = regexMatcher(pathTemplateRegex(value));
  else
    *p.mutable_path() = stringMatcher(value);
  return p;
}

std::optional<CidrRange> cidrRange(std::string_view value) {
  if (!core::validation::checkIpOrCidr(value).empty()) return std::nullopt;
  CidrRange c;
  size_t slash = value.find('/');
  std::string_view address = value.substr(0, slash);
  uint32_t len = address.find(':') == std::string_view::npos ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view bits = value.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), len);
    if (ec != std::errc() || ptr != bits.data() + bits.size()) return std::nullopt;
  }
  c.set_address_prefix(std::string(address));
  c.mutable_prefix_len()->set_value(len);
  return c;
}

ValueMatcher stringValue(StringMatcher m) {
  ValueMatcher v;
  *v.mutable_string_match() = std::move(m);
  return v;
}

ValueMatcher stringOrValue(std::span<const std::string> values) {
  ValueMatcher v;
  auto* any = v.mutable_or_match();
  for (const std::string& value : values) *any->add_value_matchers() = stringValue(stringMatcher(value));
  return v;
}

MetadataMatcher metadataMatcher(std::string_view filter, std::span<const std::string> path, ValueMatcher value) {
  MetadataMatcher m;
  m.set_filter(std::string(filter));
  for (const std::string& key : path) m.add_path()->set_key(key);
  *m.mutable_value() = std::move(value);
  return m;
}

MetadataMatcher jwtClaimMatcher(std::span<const std::string> claimPath, std::span<const std::string> values) {
  std::vector<std::string> path{std::string(kJwtPayloadKey)};
  path.insert(path.end(), claimPath.begin(), claimPath.end());
  // A claim may be a string or a list of strings ("aud", "groups"): match either shape.
  ValueMatcher either;
  auto* any = either.mutable_or_match();
  *any->add_value_matchers()->mutable_list_match()->mutable_one_of() = stringOrValue(values);
  *any->add_value_matchers() = stringOrValue(values);
  return metadataMatcher(kJwtAuthnFilter, path, std::move(either));
}

MetadataMatcher jwtStringClaimMatcher(std::string_view claim, StringMatcher m) {
  const std::string path[] = {std::string(kJwtPayloadKey), std::string(claim)};
  return metadataMatcher(kJwtAuthnFilter, path, stringValue(std::move(m)));
}

}  // namespace mesh::xds::security
