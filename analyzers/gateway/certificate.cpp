// gateway.CertificateAnalyzer: two Gateways serving the same TLS certificate (IST0138) can make
// clients that reuse HTTP/2 connections get 404s. As in Istio, a Gateway is compared with every
// other Gateway whose selector includes all of its own labels (an empty selector includes all),
// across namespaces (PILOT_SCOPE_GATEWAY_TO_NAMESPACE is off by default).
#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

std::string_view field(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n && n->isScalar() ? n->text() : std::string_view();
}

// Istio's haveSameCertificate: the same credentialName, or (neither has one) the same
// serverCertificate and privateKey.
bool sameCertificate(const core::Node* a, const core::Node* b) {
  std::string_view credA = field(a, "credentialName"), credB = field(b, "credentialName");
  if (!credA.empty() && !credB.empty()) return credA == credB;
  if (!credA.empty() || !credB.empty()) return false;
  std::string_view certA = field(a, "serverCertificate"), certB = field(b, "serverCertificate");
  if (certA.empty() || certB.empty() || certA != certB) return false;
  std::string_view keyA = field(a, "privateKey"), keyB = field(b, "privateKey");
  return !keyA.empty() && !keyB.empty() && keyA == keyB;
}

// Every label of `sub` appears with the same value in `super`.
bool selectorSubset(const Labels& sub, const Labels& super) {
  for (const auto& [k, v] : sub) {
    auto it = super.find(k);
    if (it == super.end() || it->second != v) return false;
  }
  return true;
}

std::string fullName(const core::Resource& r) {
  return r.namespace_().empty() ? std::string(r.name()) : std::string(r.namespace_()) + "/" + std::string(r.name());
}

const core::Node* tlsOf(const core::Node* server) {
  const core::Node* tls = server->get("tls");
  return tls && !tls->isNull() ? tls : nullptr;
}

class CertificateAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"gateway.CertificateAnalyzer", "Checks a gateway certificate", {kinds::Gateway}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    auto gateways = snapshot.all(kinds::Gateway);
    for (const core::Resource* current : gateways) {
      const core::Node* spec = current->spec();
      Labels selector = labelsFrom(spec ? spec->get("selector") : nullptr);
      const core::Node* servers = spec ? spec->get("servers") : nullptr;
      if (!servers) continue;
      for (const core::Resource* other : gateways) {
        if (other == current) continue;
        const core::Node* otherSpec = other->spec();
        if (!selector.empty() &&
            !selectorSubset(selector, labelsFrom(otherSpec ? otherSpec->get("selector") : nullptr)))
          continue;
        const core::Node* otherServers = otherSpec ? otherSpec->get("servers") : nullptr;
        if (!otherServers) continue;
        for (const core::Node* s : servers->items()) {
          for (const core::Node* o : otherServers->items()) {
            const core::Node* tlsA = tlsOf(s);
            const core::Node* tlsB = tlsOf(o);
            if (!tlsA || !tlsB || !sameCertificate(tlsA, tlsB)) continue;
            reporter.report(messageType("GatewayDuplicateCertificate"), *current,
                            {std::vector<std::string>{fullName(*current), fullName(*other)}},
                            current->metadata() ? current->metadata()->get("name") : nullptr);
          }
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeGatewayCertificateAnalyzer() { return std::make_unique<CertificateAnalyzer>(); }

}  // namespace mesh::analysis
