#include "core/metrics/family.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace mesh::metrics {

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

void metricsProgrammingError(std::string_view what) {
  fmt::print(stderr, "metrics: programming error: {}\n", what);
  std::fflush(stderr);
  std::abort();
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> labelNames,
                       MetricType type)
    : name_(std::move(name)),
      help_(std::move(help)),
      labelNames_(std::move(labelNames)),
      type_(type) {}

void FamilyBase::checkLabelCount(std::size_t given) const {
  if (given != labelNames_.size()) {
    metricsProgrammingError(fmt::format("{}: {} label values given, the family has {} labels",
                                        name_, given, labelNames_.size()));
  }
}

}  // namespace mesh::metrics
