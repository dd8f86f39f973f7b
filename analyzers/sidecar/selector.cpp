// sidecar.SelectorAnalyzer (Istio sidecar/selector.go), per namespace:
// - a Sidecar's workloadSelector must match a pod in its namespace (IST0101 "selector");
// - no pod may be selected by two Sidecars (IST0110, per pod and Sidecar);
// - at most one Sidecar without a selector (IST0111);
// - a Sidecar that selects ambient-mode pods, or a selector-less Sidecar in an ambient
//   namespace, has no effect (IST0167, once per Sidecar).
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

bool podInAmbient(const core::Resource& pod) { return pod.annotation("ambient.istio.io/redirection") == "enabled"; }

bool namespaceInAmbient(const core::Resource* ns) {
  if (!ns) return false;
  // A sidecar-injection label means the namespace is not ambient.
  if (ns->label("istio-injection") == "enabled") return false;
  if (!ns->label("istio.io/rev").empty()) return false;
  return ns->label("istio.io/dataplane-mode") == "ambient";
}

std::vector<std::string> names(const std::vector<const core::Resource*>& list) {
  std::vector<std::string> out;
  for (const core::Resource* r : list) out.emplace_back(r->name());
  return out;
}

const core::Node* nameNode(const core::Resource& r) { return r.metadata() ? r.metadata()->get("name") : nullptr; }

class SidecarSelectorAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"sidecar.SelectorAnalyzer",
                                    "Validates that sidecars that define a workload selector match at least one "
                                    "pod, and that there aren't multiple sidecar resources that select overlapping "
                                    "pods",
                                    {kinds::Sidecar, kinds::Pod, kinds::Namespace}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::map<const core::Resource*, std::vector<const core::Resource*>> podToSidecars;
    std::vector<const core::Resource*> podOrder;
    std::map<std::string, std::vector<const core::Resource*>, std::less<>> selectorless;

    for (const core::Resource* sc : snapshot.all(kinds::Sidecar)) {
      const core::Node* spec = sc->spec();
      const core::Node* ws = spec ? spec->get("workloadSelector") : nullptr;
      Labels selectorLabels = labelsFrom(ws ? ws->get("labels") : nullptr);
      if (selectorLabels.empty()) {
        selectorless[std::string(sc->namespace_())].push_back(sc);
        continue;
      }
      LabelSelector sel = LabelSelector::fromSet(selectorLabels);
      bool found = false;
      for (const core::Resource* pod : selectPods(snapshot, sel, sc->namespace_())) {
        found = true;
        auto& list = podToSidecars[pod];
        if (list.empty()) podOrder.push_back(pod);
        list.push_back(sc);
      }
      if (!found)
        reporter.report(messageType("ReferencedResourceNotFound"), *sc, {std::string("selector"), sel.toString()},
                        ws->get("labels"));
    }

    std::set<const core::Resource*> ineffective;
    auto reportIneffective = [&](const core::Resource& sc, const char* why) {
      if (ineffective.insert(&sc).second) reporter.report(messageType("IneffectivePolicy"), sc, {std::string(why)});
    };

    for (const core::Resource* pod : podOrder) {
      const auto& list = podToSidecars[pod];
      bool ambient = podInAmbient(*pod);
      if (list.size() == 1 && !ambient) continue;
      for (const core::Resource* sc : list) {
        // Ambient pods have no sidecar: the Sidecar is moot rather than conflicting.
        if (ambient) {
          reportIneffective(*sc, "selected workload is in ambient mode, the policy has no impact");
          continue;
        }
        reporter.report(messageType("ConflictingSidecarWorkloadSelectors"), *sc,
                        {names(list), std::string(pod->namespace_()), std::string(pod->name())}, nameNode(*sc));
      }
    }

    for (const auto& [ns, list] : selectorless) {
      if (namespaceInAmbient(snapshot.find(kinds::Namespace, "", ns))) {
        for (const core::Resource* sc : list)
          reportIneffective(*sc, "namespace is in ambient mode, the policy has no impact");
        continue;
      }
      if (list.size() < 2) continue;
      for (const core::Resource* sc : list)
        reporter.report(messageType("MultipleSidecarsWithoutWorkloadSelectors"), *sc, {names(list), ns});
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeSidecarSelectorAnalyzer() { return std::make_unique<SidecarSelectorAnalyzer>(); }

}  // namespace mesh::analysis
