// Family<Metric>: one metric name with its help text and label names, and one child Metric per
// distinct tuple of label values (Prometheus' "metric family", Go's CounterVec/HistogramVec).
// Families are created and owned by a Registry. Any thread may call with(); it takes a shared
// lock to find a child (exclusive only to create one), and the returned reference stays valid
// as long as the Registry, so hot paths look a child up once and cache it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesh::metrics {

enum class MetricType { Counter, Gauge, Histogram };

// "counter", "gauge", "histogram": the word on the exposition's # TYPE line.
std::string_view typeName(MetricType type);

// Misuse that no input can cause (a bad metric name, a wrong number of label values) is a bug
// in meshd: it is reported on stderr and aborts, like Envoy's RELEASE_ASSERT.
[[noreturn]] void metricsProgrammingError(std::string_view what);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> labelNames,
             MetricType type);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }
  MetricType type() const { return type_; }

 protected:
  void checkLabelCount(std::size_t given) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> labelNames_;
  MetricType type_;
};

// Orders label-value tuples lexicographically, comparing a stored std::vector<std::string> with
// a caller's string_views without building a key (no allocation when the child exists).
struct LabelValuesLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (const int c = std::string_view(a[i]).compare(std::string_view(b[i])); c != 0) {
        return c < 0;
      }
    }
    return a.size() < b.size();
  }
};

template <class Metric>
class Family final : public FamilyBase {
 public:
  using Options = typename Metric::Options;

  Family(std::string name, std::string help, std::vector<std::string> labelNames, MetricType type,
         Options options)
      : FamilyBase(std::move(name), std::move(help), std::move(labelNames), type),
        options_(std::move(options)) {
    // A family without labels always has its one child, so it is exposed (as 0) from the start,
    // like Go's NewCounter; a labelled family shows nothing until a child exists, like CounterVec.
    if (this->labelNames().empty()) {
      children_.emplace(std::vector<std::string>{}, std::make_unique<Metric>(options_));
    }
  }

  // Values in the order of labelNames(): `pushes.with({"cds"})`; `total.with()` when unlabelled.
  Metric& with(std::initializer_list<std::string_view> labelValues = {}) {
    return child(std::span<const std::string_view>(labelValues.begin(), labelValues.size()));
  }
  Metric& with(std::span<const std::string> labelValues) { return child(labelValues); }

  // Calls visit(const std::vector<std::string>& labelValues, const Metric&) for every child in
  // label-value order, under the shared lock (with() on a new child waits until it is done).
  template <class Visit>
  void forEach(Visit&& visit) const {
    std::shared_lock lock(mu_);
    for (const auto& [values, metric] : children_) visit(values, *metric);
  }

  const Options& options() const { return options_; }

 private:
  template <class Values>
  Metric& child(const Values& values) {
    checkLabelCount(values.size());
    {
      std::shared_lock lock(mu_);
      if (auto it = children_.find(values); it != children_.end()) return *it->second;
    }
    std::unique_lock lock(mu_);
    auto it = children_.find(values);  // another thread may have created it meanwhile
    if (it == children_.end()) {
      it = children_
               .emplace(std::vector<std::string>(values.begin(), values.end()),
                        std::make_unique<Metric>(options_))
               .first;
    }
    return *it->second;
  }

  Options options_;
  mutable std::shared_mutex mu_;
  // unique_ptr: a child's address must not change, callers cache references to it.
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, LabelValuesLess> children_;
};

}  // namespace mesh::metrics
