// telemetry.ProviderAnalyzer (Istio telemetry.ProviderAnalyzer), IST0157: when the mesh config
// names no default access-logging provider, a Telemetry accessLogging entry that lists no
// providers (and is not disabled) has nothing to log to and is ignored.
#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

class ProviderAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"telemetry.ProviderAnalyzer",
                                    "Validates that providers in telemetry resource is valid",
                                    {kinds::Telemetry, kinds::MeshConfig}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    const nlohmann::json* defaults =
        jsonAt(snapshot.meshConfig(), {"defaultProviders", "accessLogging"});
    if (defaults && defaults->is_array() && !defaults->empty()) return;
    for (const core::Resource* t : snapshot.all(kinds::Telemetry)) {
      const core::Node* logging = t->spec() ? t->spec()->get("accessLogging") : nullptr;
      if (!logging) continue;
      for (const core::Node* entry : logging->items()) {
        const core::Node* disabled = entry->get("disabled");
        if (disabled && disabled->asBool().value_or(false)) continue;
        const core::Node* providers = entry->get("providers");
        if (!providers || providers->size() == 0)
          reporter.report(messageType("InvalidTelemetryProvider"), *t,
                          {std::string(t->name()), std::string(t->namespace_())});
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeTelemetryProviderAnalyzer() {
  return std::make_unique<ProviderAnalyzer>();
}

}  // namespace mesh::analysis
