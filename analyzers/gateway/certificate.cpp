// gateway.CertificateAnalyzer: two Gateways serving the same TLS certificate (IST0138) can make
// clients that reuse HTTP/2 connections get 404s. As in Istio, a Gateway is compared with every
// other Gateway whose selector includes all of its own labels (an empty selector includes all),
// across namespaces (PILOT_SCOPE_GATEWAY_TO_NAMESPACE is off by default).
#include <map>
#include <optional>
#include <set>
#include <span>
#include <tuple>

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

// What sameCertificate() compares, as one key: two TLS settings have the same certificate when
// their keys are equal. nullopt for settings that share their certificate with none.
std::optional<std::tuple<bool, std::string_view, std::string_view>> certificateKey(const core::Node* tls) {
  if (std::string_view cred = field(tls, "credentialName"); !cred.empty())
    return std::tuple(true, cred, std::string_view());
  std::string_view cert = field(tls, "serverCertificate"), key = field(tls, "privateKey");
  if (cert.empty() || key.empty()) return std::nullopt;
  return std::tuple(false, cert, key);
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
    // Per certificate, the gateways (positions in `gateways`) with a TLS server using it: only
    // those need comparing.
    std::map<std::tuple<bool, std::string_view, std::string_view>, std::set<size_t>> byCertificate;
    for (size_t i = 0; i < gateways.size(); ++i)
      for (const core::Node* server : serversOf(*gateways[i]))
        if (auto key = certificateKey(tlsOf(server))) byCertificate[*key].insert(i);

    for (size_t i = 0; i < gateways.size(); ++i) {
      const core::Resource* current = gateways[i];
      const core::Node* spec = current->spec();
      Labels selector = labelsFrom(spec ? spec->get("selector") : nullptr);
      const core::Node* servers = spec ? spec->get("servers") : nullptr;
      if (!servers) continue;
      std::set<size_t> sharing;
      for (const core::Node* s : servers->items())
        if (auto key = certificateKey(tlsOf(s))) {
          const std::set<size_t>& users = byCertificate.at(*key);
          sharing.insert(users.begin(), users.end());
        }
      for (size_t j : sharing) {
        const core::Resource* other = gateways[j];
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

 private:
  static std::span<const core::Node* const> serversOf(const core::Resource& gw) {
    const core::Node* servers = gw.spec() ? gw.spec()->get("servers") : nullptr;
    return servers ? servers->items() : std::span<const core::Node* const>();
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeGatewayCertificateAnalyzer() { return std::make_unique<CertificateAnalyzer>(); }

}  // namespace mesh::analysis
