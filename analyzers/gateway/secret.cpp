// gateway.SecretAnalyzer: the Gateway's selector must match a pod (IST0101), and every TLS
// credentialName must name a Secret in the namespace of the selected gateway workload — not
// the Gateway's own namespace (IST0101) — holding a parseable, currently valid certificate
// (IST0161), as istiod checks before serving it over SDS.
#include <ctime>

#include "analyzers/analyzer.h"
#include "analyzers/gateway/tls_credential.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

class SecretAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"gateway.SecretAnalyzer",
                                    "Checks a gateway's referenced secrets for correctness",
                                    {kinds::Gateway, kinds::Pod, kinds::Secret}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::time_t now = std::time(nullptr);
    for (const core::Resource* gw : snapshot.all(kinds::Gateway)) {
      const core::Node* spec = gw->spec();
      const core::Node* selectorNode = spec ? spec->get("selector") : nullptr;
      LabelSelector selector = LabelSelector::fromSet(selectorNode);

      // Istio assumes all selected workloads share a namespace and takes the first one's.
      const core::Resource* gwPod = firstSelectedPod(snapshot, selector);
      std::string_view gwNs = gwPod ? gwPod->namespace_() : std::string_view();
      if (gwNs.empty()) {
        reporter.report(messageType("ReferencedResourceNotFound"), *gw, {std::string("selector"), selector.toString()},
                        selectorNode);
        continue;
      }

      const core::Node* servers = spec ? spec->get("servers") : nullptr;
      if (!servers) continue;
      for (const core::Node* server : servers->items()) {
        const core::Node* tls = server->get("tls");
        const core::Node* cnNode = tls ? tls->get("credentialName") : nullptr;
        std::string_view cn = cnNode && cnNode->isScalar() ? cnNode->text() : std::string_view();
        if (cn.empty()) continue;
        // A "namespace/name" credential names its namespace explicitly.
        std::string_view ns = gwNs, name = cn;
        if (size_t slash = cn.find('/'); slash != std::string_view::npos) {
          ns = cn.substr(0, slash);
          name = cn.substr(slash + 1);
        }
        const core::Resource* secret = snapshot.find(kinds::Secret, ns, name);
        if (!secret) {
          reporter.report(messageType("ReferencedResourceNotFound"), *gw,
                          {std::string("credentialName"), std::string(cn)}, cnNode);
          continue;
        }
        if (!isValidGatewayCredential(*secret, now))
          reporter.report(messageType("InvalidGatewayCredential"), *gw, {std::string(gw->name()), std::string(gwNs)},
                          cnNode);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeGatewaySecretAnalyzer() { return std::make_unique<SecretAnalyzer>(); }

}  // namespace mesh::analysis
