// OutlierDetector: Envoy's consecutive-5xx and consecutive-gateway-failure ejection for one
// cluster, with base_ejection_time × ejections (capped by max_ejection_time) and
// max_ejection_percent (at least one host may always be ejected). Time is passed in, so tests
// drive it with a fake clock. Thread-safe: every worker reports results into it.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;

  explicit OutlierDetector(OutlierDetectionConfig config) : config_(config) {}
  void setConfig(const OutlierDetectionConfig& config);
  // The cluster's current hosts (keys "address:port"); state of hosts that stay is kept.
  void setHosts(const std::vector<std::string>& keys);
  // One upstream result. `status` is the HTTP status, or for a local-origin failure (connect
  // failure, reset, timeout) the status Envoy maps it to (503, or 504 for a timeout).
  // `enforceRoll` in [0, 100) decides the enforcing_* percentages. Returns true on ejection.
  bool onResult(const std::string& host, unsigned status, Clock::time_point now, uint32_t enforceRoll);
  bool isEjected(const std::string& host, Clock::time_point now);
  size_t ejectedCount(Clock::time_point now);

 private:
  struct HostState {
    uint32_t consecutive5xx = 0;
    uint32_t consecutiveGatewayFailure = 0;
    uint32_t ejections = 0;
    bool ejected = false;
    Clock::time_point ejectedUntil;
  };
  void refresh(HostState& h, Clock::time_point now);
  bool eject(HostState& h, Clock::time_point now);

  std::mutex mu_;
  OutlierDetectionConfig config_;
  std::map<std::string, HostState, std::less<>> hosts_;
};

}  // namespace mesh::proxy::dataplane
