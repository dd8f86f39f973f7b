// destinationrule.CaCertificateAnalyzer (Istio destinationrule/ca-certificates.go): TLS
// origination in SIMPLE or MUTUAL mode without caCertificates does not verify the server, at
// the DestinationRule level (IST0128) or per port (IST0129). A credentialName counts as a CA
// source only when the DestinationRule has a workloadSelector.
#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

// ClientTLSSettings.mode by name, or by enum number as protobuf JSON also allows.
std::string_view verifyingMode(const core::Node* tls) {
  const core::Node* mode = tls ? tls->get("mode") : nullptr;
  if (!mode) return {};
  std::string_view m = mode->text();
  if (m == "SIMPLE" || m == "1") return "SIMPLE";
  if (m == "MUTUAL" || m == "2") return "MUTUAL";
  return {};
}

bool nonEmpty(const core::Node* tls, std::string_view key) {
  const core::Node* n = tls->get(key);
  return n && !n->text().empty();
}

// Whether the TLS settings leave the server unverified.
bool unverified(const core::Node* tls, bool hasWorkloadSelector) {
  if (nonEmpty(tls, "caCertificates")) return false;
  return !(nonEmpty(tls, "credentialName") && hasWorkloadSelector);
}

std::string fullName(const core::Resource& r) {
  return r.namespace_().empty() ? std::string(r.name()) : std::string(r.namespace_()) + "/" + std::string(r.name());
}

class CaCertificateAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"destinationrule.CaCertificateAnalyzer",
                                    "Checks if caCertificates is set when TLS mode is SIMPLE/MUTUAL",
                                    {kinds::DestinationRule}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const core::Resource* dr : snapshot.all(kinds::DestinationRule)) {
      const core::Node* spec = dr->spec();
      if (!spec) continue;
      const core::Node* ws = spec->get("workloadSelector");
      bool hasSelector = ws && !ws->isNull();
      std::string host = spec->get("host") ? std::string(spec->get("host")->text()) : std::string();
      const core::Node* policy = spec->get("trafficPolicy");
      if (!policy) continue;

      const core::Node* tls = policy->get("tls");
      if (std::string_view mode = verifyingMode(tls); !mode.empty() && unverified(tls, hasSelector))
        reporter.report(messageType("NoServerCertificateVerificationDestinationLevel"), *dr,
                        {fullName(*dr), std::string(dr->namespace_()), std::string(mode), host}, tls);

      const core::Node* ports = policy->get("portLevelSettings");
      if (!ports) continue;
      for (const core::Node* p : ports->items()) {
        const core::Node* ptls = p->get("tls");
        std::string_view mode = verifyingMode(ptls);
        if (mode.empty() || !unverified(ptls, hasSelector)) continue;
        // The port as Go prints the PortSelector message.
        std::string port;
        if (const core::Node* sel = p->get("port"); sel && sel->get("number"))
          port = "number:" + std::string(sel->get("number")->text());
        reporter.report(messageType("NoServerCertificateVerificationPortLevel"), *dr,
                        {fullName(*dr), std::string(dr->namespace_()), std::string(mode), host, port}, ptls);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeCaCertificateAnalyzer() { return std::make_unique<CaCertificateAnalyzer>(); }

}  // namespace mesh::analysis
