// Per-route HTTP filter configs Istio attaches from an HTTPRoute (typed_per_filter_config):
// fault injection for envoy.filters.http.fault and the CORS policy for envoy.filters.http.cors,
// following Istio's TranslateFault and TranslateCORSPolicy. Stateless; any thread.
#pragma once

#include <optional>
#include <string_view>

#include "core/yaml/node.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"

namespace mesh::xds {

inline constexpr std::string_view kFaultFilterName = "envoy.filters.http.fault";
inline constexpr std::string_view kCorsFilterName = "envoy.filters.http.cors";

// HTTPFaultInjection → HTTPFault. Percentages become per-million fractions (0.1% is 1000 per
// million); a delay without percentage uses the legacy integer `percent` (0 when absent: no
// delay, as Istio documents). nullopt when neither a fixed delay nor an abort is configured.
std::optional<envoy::extensions::filters::http::fault::v3::HTTPFault> translateFault(const core::Node* fault);

// CorsPolicy → the cors filter's per-route policy, always enabled.
envoy::extensions::filters::http::cors::v3::CorsPolicy translateCors(const core::Node* cors);

// gRPC status name ("UNAVAILABLE") or number → code; nullopt when unknown.
std::optional<uint32_t> grpcStatusCode(std::string_view status);

}  // namespace mesh::xds
