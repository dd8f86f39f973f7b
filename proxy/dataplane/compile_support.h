// Helpers shared by the compile_*.cpp files: duration and percentage conversion, RE2
// compilation with a size limit, string matchers, header mutations. Internal to dataplane.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/wrappers.pb.h>

#include <string>

#include "core/result.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/protocol.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/type/matcher/v3/regex.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "envoy/type/v3/percent.pb.h"
#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane::detail {

Millis toMillis(const google::protobuf::Duration& d);
Fraction toFraction(const envoy::type::v3::FractionalPercent& p);
std::string lower(std::string_view s);

// RE2 with Envoy's semantics (full match is the caller's choice) and a program-size cap.
Result<std::shared_ptr<const re2::RE2>> compileRegex(const std::string& pattern,
                                                      const std::string& where);
Result<std::shared_ptr<const re2::RE2>> compileRegex(
    const envoy::type::matcher::v3::RegexMatcher& m, const std::string& where);
Result<StringMatch> compileStringMatch(const envoy::type::matcher::v3::StringMatcher& m,
                                       const std::string& where);
Result<HeaderMutation> compileHeaderMutation(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& add,
    const google::protobuf::RepeatedPtrField<std::string>& remove, const std::string& where);

Result<HeaderMatcher> compileHeaderMatcher(const envoy::config::route::v3::HeaderMatcher& m,
                                           const std::string& where);
Result<std::shared_ptr<const FaultConfig>> compileFault(
    const envoy::extensions::filters::http::fault::v3::HTTPFault& fault, const std::string& where);
// A typed_per_filter_config entry for the fault filter (HTTPFault, maybe inside FilterConfig).
Result<std::shared_ptr<const FaultConfig>> compileFaultAny(const google::protobuf::Any& any,
                                                           const std::string& where);

// http2_protocol_options, with Envoy's ranges (compile_http2.cpp).
Result<Http2Options> compileHttp2Options(const envoy::config::core::v3::Http2ProtocolOptions& options,
                                         const std::string& where);

inline Failure invalid(const std::string& where, const std::string& what) {
  return fail(ErrorCode::InvalidInput, where + ": " + what);
}

}  // namespace mesh::proxy::dataplane::detail
