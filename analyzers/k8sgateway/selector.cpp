// k8sgateway.SelectorAnalyzer: a policy (AuthorizationPolicy, RequestAuthentication, Telemetry,
// WasmPlugin) that picks Gateway-API gateway pods through `selector` instead of `targetRef` is
// ineffective there (IST0166). Gateway pods are those labelled gateway.networking.k8s.io/gateway-name.
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kGatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

bool present(const core::Node* n) { return n && !n->isNull(); }

class SelectorAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "k8sgateway.SelectorAnalyzer",
        "Check that selectors are effective for Kubernetes gateway",
        {kinds::AuthorizationPolicy, kinds::RequestAuthentication, kinds::Telemetry, kinds::WasmPlugin, kinds::Pod}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<std::string_view, std::vector<const core::Resource*>> gatewayPods;  // by namespace
    for (const core::Resource* pod : snapshot.all(kinds::Pod))
      if (labelValue(pod->labels(), kGatewayNameLabel)) gatewayPods[pod->namespace_()].push_back(pod);

    for (KindRef kind :
         {kinds::AuthorizationPolicy, kinds::RequestAuthentication, kinds::Telemetry, kinds::WasmPlugin}) {
      for (const core::Resource* policy : snapshot.all(kind)) {
        const core::Node* spec = policy->spec();
        if (!spec || present(spec->get("targetRef"))) continue;
        const core::Node* selector = spec->get("selector");
        if (!present(selector)) continue;
        auto it = gatewayPods.find(policy->namespace_());
        if (it == gatewayPods.end()) continue;
        // The gateway pods whose labels include all of matchLabels, from the shorter list of
        // candidates (both are in Snapshot order).
        LabelSelector wanted = LabelSelector::fromSet(selector->get("matchLabels"));
        std::span<const core::Resource* const> candidates = podCandidates(snapshot, wanted, policy->namespace_());
        if (it->second.size() < candidates.size()) candidates = it->second;
        for (const core::Resource* pod : candidates) {
          auto gatewayName = labelValue(pod->labels(), kGatewayNameLabel);
          if (gatewayName && wanted.matches(*pod))
            reporter.report(messageType("IneffectiveSelector"), *policy, {std::string(*gatewayName)}, selector);
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeK8sGatewaySelectorAnalyzer() { return std::make_unique<SelectorAnalyzer>(); }

}  // namespace mesh::analysis
