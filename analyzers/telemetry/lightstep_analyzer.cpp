// telemetry.LightstepAnalyzer (Istio telemetry.LightstepAnalyzer), IST0002: Telemetry tracing
// that uses a mesh-config extension provider of the deprecated Lightstep type.
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

class LightstepAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"telemetry.LightstepAnalyzer",
                                    "Validates that lightstep provider is still used",
                                    {kinds::Telemetry, kinds::MeshConfig}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::set<std::string, std::less<>> lightstep;
    if (const nlohmann::json* eps = jsonAt(snapshot.meshConfig(), {"extensionProviders"});
        eps && eps->is_array())
      for (const auto& p : *eps)
        if (const nlohmann::json* name = jsonAt(p, {"name"});
            name && name->is_string() && jsonAt(p, {"lightstep"}))
          lightstep.insert(name->get<std::string>());
    if (lightstep.empty()) return;
    for (const core::Resource* t : snapshot.all(kinds::Telemetry)) {
      const core::Node* tracing = t->spec() ? t->spec()->get("tracing") : nullptr;
      if (!tracing) continue;
      for (const core::Node* entry : tracing->items()) {
        const core::Node* providers = entry->get("providers");
        if (!providers) continue;
        for (const core::Node* p : providers->items()) {
          const core::Node* name = p->get("name");
          if (name && lightstep.contains(name->text()))
            reporter.report(messageType("Deprecated"), *t,
                            {"The Lightstep provider " + std::string(name->text()) +
                             " is deprecated, please migrate to OpenTelemetry provider."});
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeTelemetryLightstepAnalyzer() {
  return std::make_unique<LightstepAnalyzer>();
}

}  // namespace mesh::analysis
