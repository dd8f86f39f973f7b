// schema.ValidationAnalyzer.<Kind>: the validation `meshctl validate` runs, reported as
// analysis messages (errors IST0106, warnings IST0133), one analyzer per Istio kind as istioctl
// registers them. Findings Istio reports under their own codes (unreachable VirtualService
// rules, IST0130/IST0131) keep those codes.
#include <fmt/format.h>

#include "analyzers/registry_entries.h"
#include "analyzers/schema/mesh_validation.h"
#include "core/validation/validate.h"

namespace mesh::analysis {
namespace {

class ValidationAnalyzer final : public Analyzer {
 public:
  explicit ValidationAnalyzer(KindRef kind)
      : name_(fmt::format("schema.ValidationAnalyzer.{}", kind.kind)),
        description_(fmt::format("Runs schema validation as an analyzer on '{}' resources", kind.kind)),
        info_{name_, description_, {kind}},
        kind_(kind) {}

  const AnalyzerInfo& info() const override { return info_; }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const core::Resource* r : snapshot.all(kind_)) {
      for (const core::Diagnostic& d : core::validateResource(*r)) {
        // The finding's own line is the better reference: it points at the bad field.
        if (!d.analysisCode.empty()) {
          reporter.reportAtLine(*findMessageType(d.analysisCode), *r,
                                std::vector<Arg>(d.analysisArgs.begin(), d.analysisArgs.end()), d.line);
          continue;
        }
        std::string text = d.field.empty() ? d.message : fmt::format("{}: {}", d.field, d.message);
        const MessageType& type = d.severity == core::Severity::Error ? messageType("SchemaValidationError")
                                                                      : messageType("SchemaWarning");
        reporter.reportAtLine(type, *r, {std::move(text)}, d.line);
      }
    }
  }

 private:
  std::string name_;
  std::string description_;
  AnalyzerInfo info_;
  KindRef kind_;
};

// MeshConfig and MeshNetworks are not files' objects but the snapshot's synthetic ones; their
// rules are Istio's ValidateMeshConfig / ValidateMeshNetworks.
class MeshValidationAnalyzer final : public Analyzer {
 public:
  using Check = std::vector<std::string> (*)(const nlohmann::json&);
  MeshValidationAnalyzer(KindRef kind, Check check)
      : name_(fmt::format("schema.ValidationAnalyzer.{}", kind.kind)),
        description_(fmt::format("Runs schema validation as an analyzer on '{}' resources", kind.kind)),
        info_{name_, description_, {kind}},
        kind_(kind),
        check_(check) {}

  const AnalyzerInfo& info() const override { return info_; }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    const nlohmann::json& value = kind_ == kinds::MeshConfig ? snapshot.meshConfig() : snapshot.meshNetworks();
    for (const core::Resource* r : snapshot.all(kind_))
      for (std::string& problem : check_(value)) reporter.report(messageType("SchemaValidationError"), *r, {std::move(problem)});
  }

 private:
  std::string name_;
  std::string description_;
  AnalyzerInfo info_;
  KindRef kind_;
  Check check_;
};

}  // namespace

void addSchemaAnalyzers(AnalyzerList& out) {
  out.push_back(std::make_unique<MeshValidationAnalyzer>(kinds::MeshConfig, validateMeshConfig));
  out.push_back(std::make_unique<MeshValidationAnalyzer>(kinds::MeshNetworks, validateMeshNetworks));
  // The kinds istioctl registers a schema analyzer for that exist as objects in files.
  static constexpr KindRef kKinds[] = {
      kinds::AuthorizationPolicy, kinds::DestinationRule,       kinds::EnvoyFilter,   kinds::Gateway,
      kinds::PeerAuthentication,  kinds::ProxyConfig,           kinds::RequestAuthentication,
      kinds::ServiceEntry,        kinds::Sidecar,               kinds::Telemetry,     kinds::VirtualService,
      kinds::WasmPlugin,          kinds::WorkloadEntry,         kinds::WorkloadGroup,
  };
  for (const KindRef& k : kKinds) out.push_back(std::make_unique<ValidationAnalyzer>(k));
}

}  // namespace mesh::analysis
