// Conversions shared by the config compiler, plus the matchers' runtime methods.
#include "proxy/dataplane/compile_support.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

// HeaderValueOption.append is deprecated, yet control planes still send it; Envoy honours it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace mesh::proxy::dataplane {

bool StringMatch::matches(std::string_view input) const {
  if (kind == Kind::Regex) return regex && re2::RE2::FullMatch(input, *regex);
  std::string folded;
  if (ignoreCase) {
    folded = detail::lower(input);
    input = folded;
  }
  switch (kind) {
    case Kind::Exact: return input == value;
    case Kind::Prefix: return input.substr(0, value.size()) == value;
    case Kind::Suffix:
      return input.size() >= value.size() && input.substr(input.size() - value.size()) == value;
    case Kind::Contains: return input.find(value) != std::string_view::npos;
    case Kind::Regex: break;
  }
  return false;
}

bool CidrRange::contains(std::string_view ip) const {
  unsigned char want[16] = {};
  unsigned char have[16] = {};
  std::string a(address);
  std::string b(ip);
  size_t bytes = 0;
  if (inet_pton(AF_INET, a.c_str(), want) == 1) {
    if (inet_pton(AF_INET, b.c_str(), have) != 1) return false;
    bytes = 4;
  } else if (inet_pton(AF_INET6, a.c_str(), want) == 1) {
    if (inet_pton(AF_INET6, b.c_str(), have) != 1) return false;
    bytes = 16;
  } else {
    return false;
  }
  uint32_t bits = std::min<uint32_t>(prefixLen, static_cast<uint32_t>(bytes * 8));
  for (uint32_t i = 0; i < bits; ++i) {
    unsigned mask = 0x80u >> (i % 8);
    if ((want[i / 8] & mask) != (have[i / 8] & mask)) return false;
  }
  return true;
}

bool HttpConnectionManagerConfig::hasFaultFilter() const {
  return std::any_of(httpFilters.begin(), httpFilters.end(),
                     [](const HttpFilter& f) { return f.kind == HttpFilterKind::Fault; });
}

namespace detail {

// Regex programs above this size are refused: Envoy's default max_program_size is 100.
constexpr int kMaxRegexProgramSize = 200;

Millis toMillis(const google::protobuf::Duration& d) {
  return Millis(d.seconds() * 1000 + d.nanos() / 1'000'000);
}

Fraction toFraction(const envoy::type::v3::FractionalPercent& p) {
  uint64_t n = p.numerator();
  switch (p.denominator()) {
    case envoy::type::v3::FractionalPercent::HUNDRED: n *= 10'000; break;
    case envoy::type::v3::FractionalPercent::TEN_THOUSAND: n *= 100; break;
    default: break;
  }
  Fraction f;
  f.perMillion = static_cast<uint32_t>(std::min<uint64_t>(n, 1'000'000));
  return f;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<std::shared_ptr<const re2::RE2>> compileRegex(const std::string& pattern,
                                                      const std::string& where) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>(pattern, options);
  if (!re->ok()) return invalid(where, "invalid regex \"" + pattern + "\": " + re->error());
  if (re->ProgramSize() > kMaxRegexProgramSize) {
    return invalid(where, "regex \"" + pattern + "\" program size " +
                              std::to_string(re->ProgramSize()) + " exceeds " +
                              std::to_string(kMaxRegexProgramSize));
  }
  return std::shared_ptr<const re2::RE2>(std::move(re));
}

Result<std::shared_ptr<const re2::RE2>> compileRegex(
    const envoy::type::matcher::v3::RegexMatcher& m, const std::string& where) {
  return compileRegex(m.regex(), where);
}

Result<StringMatch> compileStringMatch(const envoy::type::matcher::v3::StringMatcher& m,
                                       const std::string& where) {
  using SM = envoy::type::matcher::v3::StringMatcher;
  StringMatch out;
  out.ignoreCase = m.ignore_case();
  switch (m.match_pattern_case()) {
    case SM::kExact: out.kind = StringMatch::Kind::Exact; out.value = m.exact(); break;
    case SM::kPrefix: out.kind = StringMatch::Kind::Prefix; out.value = m.prefix(); break;
    case SM::kSuffix: out.kind = StringMatch::Kind::Suffix; out.value = m.suffix(); break;
    case SM::kContains: out.kind = StringMatch::Kind::Contains; out.value = m.contains(); break;
    case SM::kSafeRegex: {
      out.kind = StringMatch::Kind::Regex;
      auto re = compileRegex(m.safe_regex(), where + ".safe_regex");
      if (!re) return Failure(re.error());
      out.regex = *re;
      break;
    }
    default: return invalid(where, "string matcher without a supported pattern");
  }
  if (out.ignoreCase) out.value = lower(out.value);
  return out;
}

Result<HeaderMutation> compileHeaderMutation(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove, const std::string& where) {
  using HVO = envoy::config::core::v3::HeaderValueOption;
  HeaderMutation out;
  for (const auto& option : add) {
    HeaderToAdd h;
    h.name = lower(option.header().key());
    if (h.name.empty()) return invalid(where, "header to add without a key");
    if (h.name[0] == ':' && h.name != ":authority") {
      return invalid(where, "cannot add pseudo-header " + h.name);
    }
    h.value = option.header().value();
    if (h.value.find_first_of("\r\n") != std::string::npos || !option.header().raw_value().empty()) {
      if (option.header().raw_value().find_first_of("\r\n") != std::string::npos ||
          h.value.find_first_of("\r\n") != std::string::npos) {
        return invalid(where, "header value for " + h.name + " contains CR or LF");
      }
      if (h.value.empty()) h.value = option.header().raw_value();
    }
    if (option.has_append()) {
      h.action = option.append().value() ? HeaderToAdd::Action::Append
                                         : HeaderToAdd::Action::OverwriteIfExistsOrAdd;
    } else {
      switch (option.append_action()) {
        case HVO::ADD_IF_ABSENT: h.action = HeaderToAdd::Action::AddIfAbsent; break;
        case HVO::OVERWRITE_IF_EXISTS_OR_ADD:
          h.action = HeaderToAdd::Action::OverwriteIfExistsOrAdd;
          break;
        case HVO::OVERWRITE_IF_EXISTS: h.action = HeaderToAdd::Action::OverwriteIfExists; break;
        default: h.action = HeaderToAdd::Action::Append; break;
      }
    }
    out.add.push_back(std::move(h));
  }
  for (const auto& name : remove) out.remove.push_back(lower(name));
  return out;
}

}  // namespace detail
}  // namespace mesh::proxy::dataplane
