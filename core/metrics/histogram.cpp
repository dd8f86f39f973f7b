#include "core/metrics/histogram.h"

#include <algorithm>

#include "core/metrics/atomic_double.h"

namespace mesh::metrics {

Histogram::Histogram(const Options& options)
    : upperBounds_(options.upperBounds),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(options.upperBounds.size() + 1)) {}

void Histogram::observe(double v) {
  // The first bucket whose bound is >= v ("le" is inclusive). Written as !(b >= v) so NaN lands
  // in +Inf, as Go's client does (sort.SearchFloat64s).
  const auto it = std::partition_point(upperBounds_.begin(), upperBounds_.end(),
                                       [v](double bound) { return !(bound >= v); });
  counts_[static_cast<std::size_t>(it - upperBounds_.begin())].fetch_add(1,
                                                                         std::memory_order_relaxed);
  atomicAdd(sum_, v);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upperBounds = upperBounds_;
  s.cumulativeCounts.reserve(upperBounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upperBounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulativeCounts.push_back(running);
  }
  s.count = running;
  // The sum may include an observation whose bucket increment a concurrent scrape missed; the
  // buckets and count are always consistent with each other, which is what rate() queries need.
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace mesh::metrics
