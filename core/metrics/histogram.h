// Histogram: observations counted into fixed buckets (Prometheus "histogram"), e.g.
// pilot_proxy_convergence_time. Children are created by a Family<Histogram> and live as long as
// its Registry; any thread may call observe() without a lock (two relaxed atomic adds).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace mesh::metrics {

class Histogram {
 public:
  struct Options {
    // Finite, strictly increasing upper bounds; the +Inf bucket is implicit. The Registry checks
    // this once at registration (Registry::histogram), so children trust it.
    std::vector<double> upperBounds;
    friend bool operator==(const Options&, const Options&) = default;
  };

  // What a scrape sees: cumulative counts per bound, the last one for +Inf (equal to count).
  struct Snapshot {
    std::vector<double> upperBounds;
    std::vector<std::uint64_t> cumulativeCounts;  // upperBounds.size() + 1 entries
    double sum = 0;
    std::uint64_t count = 0;
  };

  explicit Histogram(const Options& options);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(double v);
  Snapshot snapshot() const;

 private:
  std::vector<double> upperBounds_;
  // Per-bucket (not cumulative) counts, so observe() touches one bucket. The total count is
  // derived from them, which keeps _count equal to the +Inf bucket in every scrape.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

}  // namespace mesh::metrics
