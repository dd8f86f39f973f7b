#include "proxy/authz/matchers.h"

// HeaderMatcher's exact_match, prefix_match, ... are deprecated, yet control planes still send them.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

namespace mesh::proxy::authz {

namespace mv3 = envoy::type::matcher::v3;

Failure configError(const std::string& where, const std::string& what) {
  return fail(ErrorCode::InvalidInput, where + ": " + what);
}

std::string lowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view pathWithoutQuery(std::string_view path) {
  return path.substr(0, path.find_first_of("?#"));
}

Result<std::shared_ptr<const re2::RE2>> compileRegex(const std::string& pattern, const std::string& where) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) return configError(where, "bad regex '" + pattern + "': " + re->error());
  if (re->ProgramSize() > kMaxRegexProgramSize) {
    return configError(where, "regex program size " + std::to_string(re->ProgramSize()) + " exceeds " +
                                  std::to_string(kMaxRegexProgramSize));
  }
  return std::shared_ptr<const re2::RE2>(std::move(re));
}

// --- StringMatcher ---

bool StringMatcher::matches(std::string_view input) const {
  if (kind_ == Kind::Regex) return re2::RE2::FullMatch(input, *regex_);
  std::string lowered;
  if (ignoreCase_) {
    lowered = lowerCase(input);
    input = lowered;
  }
  switch (kind_) {
    case Kind::Exact: return input == value_;
    case Kind::Prefix: return input.starts_with(value_);
    case Kind::Suffix: return input.ends_with(value_);
    case Kind::Contains: return input.find(value_) != std::string_view::npos;
    case Kind::Regex: break;
  }
  return false;
}

Result<StringMatcher> compileStringMatcher(const mv3::StringMatcher& m, const std::string& where) {
  StringMatcher out;
  out.ignoreCase_ = m.ignore_case();
  switch (m.match_pattern_case()) {
    case mv3::StringMatcher::kExact: out.kind_ = StringMatcher::Kind::Exact; out.value_ = m.exact(); break;
    case mv3::StringMatcher::kPrefix: out.kind_ = StringMatcher::Kind::Prefix; out.value_ = m.prefix(); break;
    case mv3::StringMatcher::kSuffix: out.kind_ = StringMatcher::Kind::Suffix; out.value_ = m.suffix(); break;
    case mv3::StringMatcher::kContains: out.kind_ = StringMatcher::Kind::Contains; out.value_ = m.contains(); break;
    case mv3::StringMatcher::kSafeRegex: {
      auto re = compileRegex(m.safe_regex().regex(), where + ".safe_regex");
      if (!re) return Failure(re.error());
      out.kind_ = StringMatcher::Kind::Regex;
      out.regex_ = *re;
      out.ignoreCase_ = false;  // Envoy: ignore_case has no effect on safe_regex
      break;
    }
    case mv3::StringMatcher::kCustom: return configError(where + ".custom", "custom string matchers are not supported");
    default: return configError(where, "StringMatcher names no match pattern");
  }
  if (out.ignoreCase_) out.value_ = lowerCase(out.value_);
  return out;
}

// --- HeaderMatcher ---

bool HeaderMatcher::matches(const RequestHeaders& headers) const {
  std::optional<std::string> value = headers.get(name_);
  if (kind_ == Kind::Present) return (value.has_value() == present_) != invert_;
  if (!value) {
    if (!missingAsEmpty_) return false;
    value.emplace();
  }
  bool hit = false;
  if (kind_ == Kind::Value) {
    hit = value_.matches(*value);
  } else {
    int64_t n = 0;
    const char* end = value->data() + value->size();
    auto [ptr, ec] = std::from_chars(value->data(), end, n);
    hit = ec == std::errc() && ptr == end && !value->empty() && n >= rangeStart_ && n < rangeEnd_;
  }
  return hit != invert_;
}

Result<HeaderMatcher> compileHeaderMatcher(const envoy::config::route::v3::HeaderMatcher& m, const std::string& where) {
  using H = envoy::config::route::v3::HeaderMatcher;
  HeaderMatcher out;
  out.name_ = lowerCase(m.name());
  if (out.name_.empty()) return configError(where + ".name", "empty header name");
  out.invert_ = m.invert_match();
  out.missingAsEmpty_ = m.treat_missing_header_as_empty();
  std::string w = where + " (" + out.name_ + ")";
  auto simple = [&](mv3::StringMatcher sm) -> Result<void> {
    auto compiled = compileStringMatcher(sm, w);
    if (!compiled) return Failure(compiled.error());
    out.kind_ = HeaderMatcher::Kind::Value;
    out.value_ = *compiled;
    return {};
  };
  Result<void> ok;
  mv3::StringMatcher sm;
  switch (m.header_match_specifier_case()) {
    case H::kExactMatch: sm.set_exact(m.exact_match()); ok = simple(sm); break;
    case H::kPrefixMatch: sm.set_prefix(m.prefix_match()); ok = simple(sm); break;
    case H::kSuffixMatch: sm.set_suffix(m.suffix_match()); ok = simple(sm); break;
    case H::kContainsMatch: sm.set_contains(m.contains_match()); ok = simple(sm); break;
    case H::kSafeRegexMatch: *sm.mutable_safe_regex() = m.safe_regex_match(); ok = simple(sm); break;
    case H::kStringMatch: ok = simple(m.string_match()); break;
    case H::kPresentMatch: out.kind_ = HeaderMatcher::Kind::Present; out.present_ = m.present_match(); break;
    case H::kRangeMatch:
      out.kind_ = HeaderMatcher::Kind::Range;
      out.rangeStart_ = m.range_match().start();
      out.rangeEnd_ = m.range_match().end();
      break;
    default: break;  // no specifier: the header must be present
  }
  if (!ok) return Failure(ok.error());
  return out;
}

// --- CIDR ---

namespace {

// Numeric IPv4 or IPv6 (a v4-mapped v6 address counts as v4) into 16 bytes.
bool parseIp(std::string_view text, unsigned char out[16], bool& v6) {
  std::string s(text);
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) != 1) return false;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out, kMapped, 12) == 0) {
    std::memmove(out, out + 12, 4);
    std::memset(out + 4, 0, 12);
    v6 = false;
    return true;
  }
  v6 = true;
  return true;
}

}  // namespace

bool CidrMatcher::matches(std::string_view ip) const {
  unsigned char b[16];
  bool v6 = false;
  if (!parseIp(ip, b, v6) || v6 != v6_) return false;
  uint32_t full = prefixLen_ / 8, rest = prefixLen_ % 8;
  if (std::memcmp(b, bytes_, full) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (b[full] & mask) == (bytes_[full] & mask);
}

Result<CidrMatcher> compileCidr(const envoy::config::core::v3::CidrRange& range, const std::string& where) {
  CidrMatcher out;
  if (!parseIp(range.address_prefix(), out.bytes_, out.v6_)) {
    return configError(where + ".address_prefix", "'" + range.address_prefix() + "' is not an IP address");
  }
  uint32_t len = range.has_prefix_len() ? range.prefix_len().value() : 0;
  if (len > (out.v6_ ? 128u : 32u)) return configError(where + ".prefix_len", "too long for the address family");
  out.prefixLen_ = len;
  return out;
}

// --- ValueMatcher / MetadataMatcher ---

bool ValueMatch::matches(const nlohmann::json* value) const {
  switch (kind) {
    case Kind::Null: return value != nullptr && value->is_null();
    case Kind::DoubleExact: return value != nullptr && value->is_number() && value->get<double>() == number;
    case Kind::DoubleRange:
      return value != nullptr && value->is_number() && value->get<double>() >= rangeStart &&
             value->get<double>() < rangeEnd;
    case Kind::String: return value != nullptr && value->is_string() && string.matches(value->get_ref<const std::string&>());
    case Kind::Bool: return value != nullptr && value->is_boolean() && value->get<bool>() == flag;
    case Kind::Present: return flag && value != nullptr;
    case Kind::ListOneOf:
      if (value == nullptr || !value->is_array()) return false;
      for (const auto& item : *value) {
        if (children.front().matches(&item)) return true;
      }
      return false;
    case Kind::Or:
      for (const ValueMatch& c : children) {
        if (c.matches(value)) return true;
      }
      return false;
  }
  return false;
}

Result<ValueMatch> compileValueMatcher(const mv3::ValueMatcher& m, const std::string& where) {
  ValueMatch out;
  switch (m.match_pattern_case()) {
    case mv3::ValueMatcher::kNullMatch: out.kind = ValueMatch::Kind::Null; break;
    case mv3::ValueMatcher::kDoubleMatch:
      if (m.double_match().has_range()) {
        out.kind = ValueMatch::Kind::DoubleRange;
        out.rangeStart = m.double_match().range().start();
        out.rangeEnd = m.double_match().range().end();
      } else {
        out.kind = ValueMatch::Kind::DoubleExact;
        out.number = m.double_match().exact();
      }
      break;
    case mv3::ValueMatcher::kStringMatch: {
      auto s = compileStringMatcher(m.string_match(), where + ".string_match");
      if (!s) return Failure(s.error());
      out.kind = ValueMatch::Kind::String;
      out.string = *s;
      break;
    }
    case mv3::ValueMatcher::kBoolMatch: out.kind = ValueMatch::Kind::Bool; out.flag = m.bool_match(); break;
    case mv3::ValueMatcher::kPresentMatch: out.kind = ValueMatch::Kind::Present; out.flag = m.present_match(); break;
    case mv3::ValueMatcher::kListMatch: {
      if (!m.list_match().has_one_of()) return configError(where + ".list_match", "needs one_of");
      auto one = compileValueMatcher(m.list_match().one_of(), where + ".list_match.one_of");
      if (!one) return Failure(one.error());
      out.kind = ValueMatch::Kind::ListOneOf;
      out.children.push_back(std::move(*one));
      break;
    }
    case mv3::ValueMatcher::kOrMatch: {
      out.kind = ValueMatch::Kind::Or;
      const auto& list = m.or_match().value_matchers();
      for (int i = 0; i < list.size(); ++i) {
        auto c = compileValueMatcher(list[i], where + ".or_match.value_matchers[" + std::to_string(i) + "]");
        if (!c) return Failure(c.error());
        out.children.push_back(std::move(*c));
      }
      break;
    }
    default: return configError(where, "ValueMatcher names no match pattern");
  }
  return out;
}

bool MetadataMatcher::matches(const DynamicMetadata* metadata) const {
  const nlohmann::json* at = nullptr;
  if (metadata != nullptr && metadata->is_object()) {
    auto it = metadata->find(filter_);
    if (it != metadata->end()) at = &*it;
  }
  for (const std::string& key : path_) {
    if (at == nullptr || !at->is_object()) {
      at = nullptr;
      break;
    }
    auto it = at->find(key);
    at = it == at->end() ? nullptr : &*it;
  }
  return value_.matches(at) != invert_;
}

Result<MetadataMatcher> compileMetadataMatcher(const mv3::MetadataMatcher& m, const std::string& where) {
  MetadataMatcher out;
  out.filter_ = m.filter();
  out.invert_ = m.invert();
  if (m.path_size() == 0) return configError(where + ".path", "must name at least one key");
  for (int i = 0; i < m.path_size(); ++i) {
    if (m.path(i).segment_case() != mv3::MetadataMatcher::PathSegment::kKey) {
      return configError(where + ".path[" + std::to_string(i) + "]", "only key segments are supported");
    }
    out.path_.push_back(m.path(i).key());
  }
  if (!m.has_value()) return configError(where + ".value", "is required");
  auto v = compileValueMatcher(m.value(), where + ".value");
  if (!v) return Failure(v.error());
  out.value_ = std::move(*v);
  return out;
}

}  // namespace mesh::proxy::authz
