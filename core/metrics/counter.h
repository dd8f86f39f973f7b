// Counter: a value that only goes up (Prometheus "counter"), e.g. pilot_xds_pushes. Children are
// created by a Family<Counter> and live as long as its Registry; any thread may call inc()/add()
// without a lock, so hot paths cache the reference that Family::with() returns.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/metrics/atomic_double.h"

namespace mesh::metrics {

class Counter {
 public:
  struct Options {
    friend bool operator==(const Options&, const Options&) = default;
  };

  explicit Counter(const Options& /*options*/ = {}) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc() { whole_.fetch_add(1, std::memory_order_relaxed); }

  // Whole amounts take the integer fast path (one fetch_add, exact beyond 2^53 like Go's client);
  // fractions go to a separate double. A negative or NaN amount would make the counter go down
  // and is ignored: Prometheus treats any decrease as a counter reset.
  void add(double amount) {
    if (!(amount >= 0)) return;
    if (amount < 1.8446744073709552e19) {
      const auto whole = static_cast<std::uint64_t>(amount);
      if (static_cast<double>(whole) == amount) {
        whole_.fetch_add(whole, std::memory_order_relaxed);
        return;
      }
    }
    atomicAdd(fraction_, amount);
  }

  double value() const {
    return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
           fraction_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> whole_{0};
  std::atomic<double> fraction_{0.0};
};

}  // namespace mesh::metrics
