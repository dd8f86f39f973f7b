// Outlier detection: see outlier_detector.h.
#include "proxy/dataplane/outlier_detector.h"

#include <algorithm>

namespace mesh::proxy::dataplane {

void OutlierDetector::setConfig(const OutlierDetectionConfig& config) {
  std::lock_guard lock(mu_);
  config_ = config;
}

void OutlierDetector::setHosts(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  std::map<std::string, HostState, std::less<>> next;
  for (const auto& k : keys) {
    auto it = hosts_.find(k);
    next.emplace(k, it == hosts_.end() ? HostState{} : it->second);
  }
  hosts_ = std::move(next);
}

// Envoy un-ejects on its interval timer once the ejection time has passed; checking lazily at
// each use gives the same result without a timer per cluster. A host that stayed healthy for
// a whole interval since its return has its ejection multiplier decremented.
void OutlierDetector::refresh(HostState& h, Clock::time_point now) {
  if (h.ejected && now >= h.ejectedUntil) {
    h.ejected = false;
    h.consecutive5xx = 0;
    h.consecutiveGatewayFailure = 0;
  }
  if (!h.ejected && h.ejections > 0 && now >= h.ejectedUntil + config_.interval) {
    auto healthyIntervals = (now - h.ejectedUntil) / config_.interval;
    h.ejections -= static_cast<uint32_t>(std::min<int64_t>(h.ejections, healthyIntervals));
    h.ejectedUntil = now;
  }
}

bool OutlierDetector::eject(HostState& h, Clock::time_point now) {
  size_t ejected = 0;
  for (auto& [key, other] : hosts_) {
    refresh(other, now);
    if (other.ejected) ++ejected;
  }
  size_t total = hosts_.size();
  if (ejected > 0 && (ejected + 1) * 100 > config_.maxEjectionPercent * total) return false;
  ++h.ejections;
  auto duration = std::min<Millis>(config_.baseEjectionTime * h.ejections,
                                   std::max(config_.maxEjectionTime, config_.baseEjectionTime));
  h.ejected = true;
  h.ejectedUntil = now + duration;
  return true;
}

bool OutlierDetector::onResult(const std::string& host, unsigned status, Clock::time_point now,
                               uint32_t enforceRoll) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return false;
  HostState& h = it->second;
  refresh(h, now);
  if (h.ejected) return false;
  if (status < 500) {
    h.consecutive5xx = 0;
    h.consecutiveGatewayFailure = 0;
    return false;
  }
  ++h.consecutive5xx;
  bool gateway = status == 502 || status == 503 || status == 504;
  if (gateway) ++h.consecutiveGatewayFailure;
  else h.consecutiveGatewayFailure = 0;
  if (config_.consecutive5xx > 0 && h.consecutive5xx >= config_.consecutive5xx) {
    h.consecutive5xx = 0;
    if (enforceRoll < config_.enforcingConsecutive5xx) return eject(h, now);
  }
  if (config_.consecutiveGatewayFailure > 0 && h.consecutiveGatewayFailure >= config_.consecutiveGatewayFailure) {
    h.consecutiveGatewayFailure = 0;
    if (enforceRoll < config_.enforcingConsecutiveGatewayFailure) return eject(h, now);
  }
  return false;
}

bool OutlierDetector::isEjected(const std::string& host, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return false;
  refresh(it->second, now);
  return it->second.ejected;
}

size_t OutlierDetector::ejectedCount(Clock::time_point now) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto& [key, h] : hosts_) {
    refresh(h, now);
    if (h.ejected) ++n;
  }
  return n;
}

}  // namespace mesh::proxy::dataplane
