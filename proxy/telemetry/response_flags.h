// Envoy's response flags (%RESPONSE_FLAGS%): why a request or connection ended the way it did,
// as bits the data plane sets while serving and the short form ("UH", "UF,URX", "-") that
// access logs and Istio's response_flags label show. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>

namespace mesh::proxy::telemetry {

// Bit order is Envoy's, which is also the order the short form lists them in.
enum ResponseFlag : uint32_t {
  kNoHealthyUpstream = 1u << 0,              // UH
  kUpstreamRequestTimeout = 1u << 1,         // UT
  kUpstreamConnectionFailure = 1u << 2,      // UF
  kUpstreamConnectionTermination = 1u << 3,  // UC
  kUpstreamOverflow = 1u << 4,               // UO
  kNoRouteFound = 1u << 5,                   // NR
  kDelayInjected = 1u << 6,                  // DI
  kFaultInjected = 1u << 7,                  // FI
  kDownstreamConnectionTermination = 1u << 8,  // DC
  kUpstreamRetryLimitExceeded = 1u << 9,     // URX
  kNoClusterFound = 1u << 10,                // NC
  kUnauthorizedExternalService = 1u << 11,   // UAEX (listed after FI, as Envoy orders it)
};

// "-" when no flag is set, else the short names joined by ",".
std::string responseFlagsString(uint32_t flags);

}  // namespace mesh::proxy::telemetry
