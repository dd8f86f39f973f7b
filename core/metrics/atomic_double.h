// Lock-free add on std::atomic<double>, shared by Counter, Gauge and Histogram's sum. A CAS loop
// rather than C++20's fetch_add so the clang 14 fuzz build (which compiles all of core) has no
// dependence on libstdc++'s floating-point atomics. Any thread may call it.
#pragma once

#include <atomic>

namespace mesh::metrics {

inline void atomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  // Relaxed: a metric is a statistic, no other memory is published through it.
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

}  // namespace mesh::metrics
