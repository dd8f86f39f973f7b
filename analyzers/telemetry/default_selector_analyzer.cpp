// telemetry.DefaultSelectorAnalyzer (Istio telemetry.DefaultSelectorAnalyzer), IST0160: at most
// one Telemetry per namespace may omit the workload selector. Needs no pods, so it runs
// where telemetry.SelectorAnalyzer cannot.
#include <algorithm>
#include <map>

#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

class DefaultSelectorAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "telemetry.DefaultSelectorAnalyzer",
        "Validates that there aren't multiple telemetry resources that have no selector",
        {kinds::Telemetry}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<std::string, std::vector<const core::Resource*>, std::less<>> byNamespace;
    for (const core::Resource* t : snapshot.all(kinds::Telemetry)) {
      const core::Node* selector = t->spec() ? t->spec()->get("selector") : nullptr;
      if (!selector || selector->isNull()) byNamespace[std::string(t->namespace_())].push_back(t);
    }
    for (const auto& [ns, list] : byNamespace) {
      if (list.size() < 2) continue;
      std::vector<std::string> names;
      for (const core::Resource* t : list) names.emplace_back(t->name());
      std::sort(names.begin(), names.end());
      for (const core::Resource* t : list)
        reporter.report(messageType("MultipleTelemetriesWithoutWorkloadSelectors"), *t,
                        {names, ns});
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeTelemetryDefaultSelectorAnalyzer() {
  return std::make_unique<DefaultSelectorAnalyzer>();
}

}  // namespace mesh::analysis
