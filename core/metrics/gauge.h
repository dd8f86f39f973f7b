// Gauge: a value that goes up and down (Prometheus "gauge"), e.g. pilot_xds, the number of
// connected proxies. Children are created by a Family<Gauge> and live as long as its Registry;
// any thread may call set()/add() without a lock.
#pragma once

#include <atomic>

#include "core/metrics/atomic_double.h"

namespace mesh::metrics {

class Gauge {
 public:
  struct Options {
    friend bool operator==(const Options&, const Options&) = default;
  };

  explicit Gauge(const Options& /*options*/ = {}) {}
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double amount) { atomicAdd(value_, amount); }
  void sub(double amount) { atomicAdd(value_, -amount); }
  void inc() { add(1.0); }
  void dec() { add(-1.0); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace mesh::metrics
