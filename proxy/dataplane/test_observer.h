// Test helpers for the loopback tests: a telemetry observer that keeps every record, and a
// bounded poll. Records are written after the response, which may be just after the client
// has it, so assertions on them poll. Tests only.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/telemetry/request_observer.h"

namespace mesh::proxy::dataplane::testing {

class RecordingObserver : public telemetry::RequestObserver {
 public:
  void onRequest(const telemetry::RequestRecord& r) override {
    std::lock_guard lock(mu_);
    requests_.push_back(r);
  }
  void onTcpOpened(const telemetry::RequestRecord&) override {}
  void onTcpClosed(const telemetry::RequestRecord& r) override {
    std::lock_guard lock(mu_);
    tcpClosed_.push_back(r);
  }
  std::vector<telemetry::RequestRecord> records() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<telemetry::RequestRecord> tcpClosed() {
    std::lock_guard lock(mu_);
    return tcpClosed_;
  }

 private:
  std::mutex mu_;
  std::vector<telemetry::RequestRecord> requests_, tcpClosed_;
};

// Re-checks `done` until it holds, for up to `limit`; the assertion is on the outcome.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace mesh::proxy::dataplane::testing
