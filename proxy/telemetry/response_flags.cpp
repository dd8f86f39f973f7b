#include "proxy/telemetry/response_flags.h"

#include <utility>

namespace mesh::proxy::telemetry {

std::string responseFlagsString(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kNoHealthyUpstream, "UH"},
      {kUpstreamRequestTimeout, "UT"},
      {kUpstreamConnectionFailure, "UF"},
      {kUpstreamConnectionTermination, "UC"},
      {kUpstreamOverflow, "UO"},
      {kNoRouteFound, "NR"},
      {kDelayInjected, "DI"},
      {kFaultInjected, "FI"},
      {kUnauthorizedExternalService, "UAEX"},
      {kDownstreamConnectionTermination, "DC"},
      {kUpstreamRetryLimitExceeded, "URX"},
      {kNoClusterFound, "NC"},
  };
  if (flags == 0) return "-";
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if ((flags & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace mesh::proxy::telemetry
