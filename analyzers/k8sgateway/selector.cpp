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
    std::map<std::string_view, std::vector<Labels>> gatewayPods;  // by namespace
    for (const core::Resource* pod : snapshot.all(kinds::Pod)) {
      Labels labels = labelsOf(*pod);
      if (labels.contains(kGatewayNameLabel)) gatewayPods[pod->namespace_()].push_back(std::move(labels));
    }

    for (KindRef kind :
         {kinds::AuthorizationPolicy, kinds::RequestAuthentication, kinds::Telemetry, kinds::WasmPlugin}) {
      for (const core::Resource* policy : snapshot.all(kind)) {
        const core::Node* spec = policy->spec();
        if (!spec || present(spec->get("targetRef"))) continue;
        const core::Node* selector = spec->get("selector");
        if (!present(selector)) continue;
        Labels wanted = labelsFrom(selector->get("matchLabels"));
        auto it = gatewayPods.find(policy->namespace_());
        if (it == gatewayPods.end()) continue;
        for (const Labels& pod : it->second) {
          bool contains = true;
          for (const auto& [k, v] : wanted) {
            auto l = pod.find(k);
            if (l == pod.end() || l->second != v) contains = false;
          }
          if (contains)
            reporter.report(messageType("IneffectiveSelector"), *policy, {pod.at(std::string(kGatewayNameLabel))},
                            selector);
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeK8sGatewaySelectorAnalyzer() { return std::make_unique<SelectorAnalyzer>(); }

}  // namespace mesh::analysis
