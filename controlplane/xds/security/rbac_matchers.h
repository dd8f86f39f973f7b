// Envoy matchers built from Istio's value syntax, as Istio's authz matcher package does: "*"
// means any non-empty value, "abc*" a prefix, "*abc" a suffix, anything else an exact value.
// Used by the RBAC rule translation and the ext_authz filter; stateless, any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/metadata.pb.h"
#include "envoy/type/matcher/v3/path.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "envoy/type/matcher/v3/value.pb.h"

namespace mesh::xds::security {

using envoy::config::core::v3::CidrRange;
using envoy::config::route::v3::HeaderMatcher;
using envoy::type::matcher::v3::MetadataMatcher;
using envoy::type::matcher::v3::PathMatcher;
using envoy::type::matcher::v3::StringMatcher;
using envoy::type::matcher::v3::ValueMatcher;

// Filter names and metadata keys other filters publish and the RBAC rules read.
inline constexpr std::string_view kJwtAuthnFilter = "envoy.filters.http.jwt_authn";
// jwt_authn's payload_in_metadata key: the verified token's claims live under it.
inline constexpr std::string_view kJwtPayloadKey = "payload";
inline constexpr std::string_view kSpiffePrefix = "spiffe://";

StringMatcher regexMatcher(std::string regex);
StringMatcher exactMatch(std::string_view value, bool ignoreCase = false);
StringMatcher prefixMatch(std::string_view value, bool ignoreCase = false);
StringMatcher suffixMatch(std::string_view value, bool ignoreCase = false);
// Istio's StringMatcherWithPrefix: `prefix` goes in front of exact and prefix values; a suffix
// value with a prefix becomes a regex; "*" is the regex ".+" and never gets the prefix.
StringMatcher stringMatcher(std::string_view value, std::string_view prefix = {});

// A header by Istio's value syntax ("*" is a presence match).
HeaderMatcher headerMatcher(std::string_view name, std::string_view value);
// The same, case-insensitive, for :authority (hosts are case-insensitive).
HeaderMatcher hostMatcher(std::string_view name, std::string_view value);
// A URL path (query excluded) by Istio's value syntax or path template ({*}, {**}).
PathMatcher pathMatcher(std::string_view value);

// "10.0.0.1" (a /32 or /128) or "10.0.0.0/8"; nullopt when it is neither.
std::optional<CidrRange> cidrRange(std::string_view value);

// A string value at `path` of a filter's dynamic metadata.
MetadataMatcher metadataMatcher(std::string_view filter, std::span<const std::string> path, ValueMatcher value);
ValueMatcher stringValue(StringMatcher m);
// Any of `values`, each by Istio's value syntax.
ValueMatcher stringOrValue(std::span<const std::string> values);
// A claim of the verified JWT (jwt_authn's payload metadata), nested claims as a path; matches
// a string claim or any element of a list claim, as Istio's extended JWT matchers do.
MetadataMatcher jwtClaimMatcher(std::span<const std::string> claimPath, std::span<const std::string> values);
// A string claim of the verified JWT by one matcher ("iss", "sub").
MetadataMatcher jwtStringClaimMatcher(std::string_view claim, StringMatcher m);

}  // namespace mesh::xds::security
