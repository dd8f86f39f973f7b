// telemetry.SelectorAnalyzer (Istio telemetry.SelectorAnalyzer), per namespace:
//  - IST0101: a Telemetry whose selector.matchLabels selects no pod in its namespace;
//  - IST0159: several Telemetries selecting the same pod (reported on each of them).
// Telemetries without matchLabels are left to telemetry.DefaultSelectorAnalyzer.
#include <algorithm>
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

class SelectorAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "telemetry.SelectorAnalyzer",
        "Validates that telemetries that define a selector match at least one pod, and "
        "that there aren't multiple telemetry resources that select overlapping pods",
        {kinds::Telemetry, kinds::Pod}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<const core::Resource*, std::vector<const core::Resource*>> byPod;
    std::vector<const core::Resource*> podOrder;
    for (const core::Resource* t : snapshot.all(kinds::Telemetry)) {
      const core::Node* selector = t->spec() ? t->spec()->get("selector") : nullptr;
      const core::Node* matchLabels = selector ? selector->get("matchLabels") : nullptr;
      if (!matchLabels || matchLabels->size() == 0) continue;
      LabelSelector sel = LabelSelector::fromSet(matchLabels);
      bool found = false;
      for (const core::Resource* pod : selectPods(snapshot, sel, t->namespace_())) {
        found = true;
        auto& list = byPod[pod];
        if (list.empty()) podOrder.push_back(pod);
        list.push_back(t);
      }
      if (!found) {
        // Istio points at the selector's first label (in sorted order).
        std::string first =
            sel.requirements().empty() ? std::string() : sel.requirements().front().key;
        reporter.report(messageType("ReferencedResourceNotFound"), *t,
                        {std::string("selector"), sel.toString()}, matchLabels->get(first));
      }
    }
    for (const core::Resource* pod : podOrder) {
      const auto& telemetries = byPod[pod];
      if (telemetries.size() < 2) continue;
      std::vector<std::string> names;
      for (const core::Resource* t : telemetries) names.emplace_back(t->name());
      std::sort(names.begin(), names.end());
      for (const core::Resource* t : telemetries)
        reporter.report(messageType("ConflictingTelemetryWorkloadSelectors"), *t,
                        {names, std::string(pod->namespace_()), std::string(pod->name())},
                        t->metadata() ? t->metadata()->get("name") : nullptr);
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeTelemetrySelectorAnalyzer() {
  return std::make_unique<SelectorAnalyzer>();
}

}  // namespace mesh::analysis
