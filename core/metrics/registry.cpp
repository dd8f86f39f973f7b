#include "core/metrics/registry.h"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace mesh::metrics {
namespace {

// Prometheus' data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* with "__" reserved for Prometheus' own labels.
bool validName(std::string_view s, bool allowColon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allowColon && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void checkNames(std::string_view name, const std::vector<std::string>& labelNames,
                MetricType type) {
  if (!validName(name, true)) {
    metricsProgrammingError(fmt::format("invalid metric name \"{}\"", name));
  }
  for (std::size_t i = 0; i < labelNames.size(); ++i) {
    const std::string& label = labelNames[i];
    if (!validName(label, false) || label.starts_with("__")) {
      metricsProgrammingError(fmt::format("{}: invalid label name \"{}\"", name, label));
    }
    // "le" is the bucket label the exposition adds to every histogram sample.
    if (type == MetricType::Histogram && label == "le") {
      metricsProgrammingError(fmt::format("{}: histograms may not have a label \"le\"", name));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labelNames[j] == label) {
        metricsProgrammingError(fmt::format("{}: duplicate label name \"{}\"", name, label));
      }
    }
  }
}

}  // namespace

template <class Metric>
Family<Metric>& Registry::add(std::string name, std::string help,
                              std::vector<std::string> labelNames, MetricType type,
                              typename Metric::Options options) {
  checkNames(name, labelNames, type);
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<Family<Metric>*>(it->second.get());
    if (existing == nullptr || existing->labelNames() != labelNames ||
        !(existing->options() == options)) {
      metricsProgrammingError(
          fmt::format("metric {} registered twice with different type, labels or buckets", name));
    }
    return *existing;
  }
  auto family = std::make_unique<Family<Metric>>(name, std::move(help), std::move(labelNames), type,
                                                 std::move(options));
  auto& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labelNames) {
  return add<Counter>(std::move(name), std::move(help), std::move(labelNames), MetricType::Counter,
                      {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labelNames) {
  return add<Gauge>(std::move(name), std::move(help), std::move(labelNames), MetricType::Gauge, {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<double> upperBounds,
                                       std::vector<std::string> labelNames) {
  // Go's client accepts a trailing +Inf and drops it; so do we, the exposition adds its own.
  if (!upperBounds.empty() && upperBounds.back() == INFINITY) upperBounds.pop_back();
  for (std::size_t i = 0; i < upperBounds.size(); ++i) {
    if (!std::isfinite(upperBounds[i]) || (i > 0 && !(upperBounds[i - 1] < upperBounds[i]))) {
      metricsProgrammingError(
          fmt::format("{}: bucket bounds must be finite and strictly increasing", name));
    }
  }
  return add<Histogram>(std::move(name), std::move(help), std::move(labelNames),
                        MetricType::Histogram, Histogram::Options{std::move(upperBounds)});
}

void Registry::forEach(const std::function<void(const FamilyBase&)>& visit) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) visit(*family);
}

}  // namespace mesh::metrics
