// Envoy's value matchers as the RBAC and JWT filters use them: StringMatcher (exact, prefix,
// suffix, contains, RE2 full match; ignore_case), HeaderMatcher (pseudo-headers included),
// CIDR ranges and MetadataMatcher over dynamic metadata. Compiled once from the protos on the
// config thread (an unknown kind is an error naming the field); immutable, any thread after.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/metadata.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "envoy/type/matcher/v3/value.pb.h"
#include "proxy/authz/authz_request.h"

namespace mesh::proxy::authz {

// RE2 programs above this size are refused (Envoy bounds them the same way).
inline constexpr int kMaxRegexProgramSize = 500;

Failure configError(const std::string& where, const std::string& what);

// An RE2 that must match the whole input; bounded program size.
Result<std::shared_ptr<const re2::RE2>> compileRegex(const std::string& pattern, const std::string& where);

class StringMatcher {
 public:
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex };
  bool matches(std::string_view input) const;

 private:
  friend Result<StringMatcher> compileStringMatcher(const envoy::type::matcher::v3::StringMatcher&,
                                                    const std::string&);
  Kind kind_ = Kind::Exact;
  std::string value_;  // lower case when ignoreCase_
  bool ignoreCase_ = false;
  std::shared_ptr<const re2::RE2> regex_;
};
Result<StringMatcher> compileStringMatcher(const envoy::type::matcher::v3::StringMatcher& m, const std::string& where);

class HeaderMatcher {
 public:
  bool matches(const RequestHeaders& headers) const;

 private:
  friend Result<HeaderMatcher> compileHeaderMatcher(const envoy::config::route::v3::HeaderMatcher&,
                                                    const std::string&);
  enum class Kind { Present, Value, Range };
  std::string name_;  // lower case
  Kind kind_ = Kind::Present;
  bool present_ = true;
  StringMatcher value_;
  int64_t rangeStart_ = 0;  // [start, end)
  int64_t rangeEnd_ = 0;
  bool invert_ = false;
  bool missingAsEmpty_ = false;
};
Result<HeaderMatcher> compileHeaderMatcher(const envoy::config::route::v3::HeaderMatcher& m, const std::string& where);

class CidrMatcher {
 public:
  bool matches(std::string_view ip) const;

 private:
  friend Result<CidrMatcher> compileCidr(const envoy::config::core::v3::CidrRange&, const std::string&);
  unsigned char bytes_[16] = {};
  bool v6_ = false;
  uint32_t prefixLen_ = 0;
};
Result<CidrMatcher> compileCidr(const envoy::config::core::v3::CidrRange& range, const std::string& where);

// A ValueMatcher (null, double, string, bool, present, list one_of, or) over a JSON value.
struct ValueMatch {
  enum class Kind { Null, DoubleExact, DoubleRange, String, Bool, Present, ListOneOf, Or };
  Kind kind = Kind::Null;
  double number = 0;       // DoubleExact
  double rangeStart = 0;   // DoubleRange: [start, end)
  double rangeEnd = 0;
  bool flag = false;       // Bool, Present
  StringMatcher string;
  std::vector<ValueMatch> children;  // ListOneOf: one; Or: several
  // `value` is null when the path names nothing.
  bool matches(const nlohmann::json* value) const;
};
Result<ValueMatch> compileValueMatcher(const envoy::type::matcher::v3::ValueMatcher& m, const std::string& where);

class MetadataMatcher {
 public:
  bool matches(const DynamicMetadata* metadata) const;

 private:
  friend Result<MetadataMatcher> compileMetadataMatcher(const envoy::type::matcher::v3::MetadataMatcher&,
                                                        const std::string&);
  std::string filter_;
  std::vector<std::string> path_;
  ValueMatch value_;
  bool invert_ = false;
};
Result<MetadataMatcher> compileMetadataMatcher(const envoy::type::matcher::v3::MetadataMatcher& m,
                                               const std::string& where);

// "/a/b?x=1#f" → "/a/b": what url_path matchers compare.
std::string_view pathWithoutQuery(std::string_view path);
std::string lowerCase(std::string_view s);

}  // namespace mesh::proxy::authz
