// Registry: the set of metric families a process exposes on /metrics (meshd's monitoring port).
// meshd owns one and registers its families at start-up (PilotMetrics); any thread may then
// register, look up children and render (exposition.h). Families are never removed, so the
// references returned here stay valid for the Registry's lifetime.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/metrics/counter.h"
#include "core/metrics/family.h"
#include "core/metrics/gauge.h"
#include "core/metrics/histogram.h"

namespace mesh::metrics {

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name again with the same type, labels (and buckets) returns the existing
  // family; a different shape, an invalid metric or label name, or unsorted buckets is a
  // programming error (see metricsProgrammingError).
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> labelNames = {});
  Family<Gauge>& gauge(std::string name, std::string help,
                       std::vector<std::string> labelNames = {});
  // upperBounds: finite and strictly increasing; the +Inf bucket is always added.
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> upperBounds,
                               std::vector<std::string> labelNames = {});

  // Calls visit for every family in name order, holding the registry's lock.
  void forEach(const std::function<void(const FamilyBase&)>& visit) const;

 private:
  template <class Metric>
  Family<Metric>& add(std::string name, std::string help, std::vector<std::string> labelNames,
                      MetricType type, typename Metric::Options options);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

}  // namespace mesh::metrics
