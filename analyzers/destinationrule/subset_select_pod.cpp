// destinationrule.SubsetSelectPodAnalyzer (Istio destinationrule/subset.go, type
// PodNotSelectedAnalyzer): a DestinationRule's host must be a Service or ServiceEntry visible
// from its namespace (IST0174), and each subset's labels (merged over the ServiceEntry's
// workloadSelector) must select at least one pod (IST0173). As Istio's service registry
// does, pod labels are augmented with the topology labels of the node the pod runs on; a
// topology label with an empty value is not added.
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"
#include "analyzers/util/service_lookup.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kTopologyLabels[] = {"topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                                                "topology.istio.io/subzone"};
constexpr std::string_view kHostnameLabel = "kubernetes.io/hostname";

Labels podLabelsWithTopology(const core::Resource& pod, const std::map<std::string, Labels, std::less<>>& nodes) {
  Labels out = labelsOf(pod);
  const core::Node* spec = pod.spec();
  const core::Node* nodeName = spec ? spec->get("nodeName") : nullptr;
  if (!nodeName || nodeName->text().empty()) return out;
  auto node = nodes.find(nodeName->text());
  if (node == nodes.end()) return out;
  for (std::string_view key : kTopologyLabels) {
    auto it = node->second.find(key);
    if (it != node->second.end() && !it->second.empty()) out[std::string(key)] = it->second;
  }
  out[std::string(kHostnameLabel)] = std::string(nodeName->text());
  return out;
}

struct SubsetMatcher {
  const core::Resource* dr;
  std::string subset;
  LabelSelector selector;
  bool matched = false;
};

class SubsetSelectPodAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "destinationrule.SubsetSelectPodAnalyzer",
        "Checks if pods are selected by subsets in destination rules.",
        {kinds::DestinationRule, kinds::Pod, kinds::Service, kinds::ServiceEntry, kinds::Node}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    ServiceHostIndex services(snapshot);
    std::map<std::string, Labels, std::less<>> nodes;
    for (const core::Resource* n : snapshot.all(kinds::Node)) nodes[std::string(n->name())] = labelsOf(*n);

    std::vector<SubsetMatcher> matchers;
    for (const core::Resource* dr : snapshot.all(kinds::DestinationRule)) {
      const core::Node* spec = dr->spec();
      if (!spec) continue;
      std::string_view host = spec->get("host") ? spec->get("host")->text() : std::string_view();
      const ServiceHostEntry* se = services.lookup(dr->namespace_(), stringList(spec->get("exportTo")), host);
      if (!se) {
        reporter.report(messageType("UnknownDestinationRuleHost"), *dr, {std::string(host)}, spec->get("host"));
        continue;
      }
      const core::Node* subsets = spec->get("subsets");
      if (!subsets) continue;
      for (const core::Node* s : subsets->items()) {
        std::string name = s->get("name") ? std::string(s->get("name")->text()) : std::string();
        Labels merged = se->workloadSelector;
        for (auto& [k, v] : labelsFrom(s->get("labels"))) merged[k] = v;
        // Istio keys subsets by name: a repeated name keeps the last definition.
        bool replaced = false;
        for (SubsetMatcher& m : matchers)
          if (m.dr == dr && m.subset == name) {
            m.selector = LabelSelector::fromSet(merged);
            replaced = true;
          }
        if (!replaced) matchers.push_back({dr, name, LabelSelector::fromSet(merged)});
      }
    }
    if (matchers.empty()) return;

    // Every pod counts, whatever its namespace, as in Istio.
    for (const core::Resource* pod : snapshot.all(kinds::Pod)) {
      Labels labels = podLabelsWithTopology(*pod, nodes);
      for (SubsetMatcher& m : matchers)
        if (!m.matched && m.selector.matches(labels)) m.matched = true;
    }
    for (const SubsetMatcher& m : matchers)
      if (!m.matched) reporter.report(messageType("DestinationRuleSubsetNotSelectPods"), *m.dr, {m.subset});
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeSubsetSelectPodAnalyzer() { return std::make_unique<SubsetSelectPodAnalyzer>(); }

}  // namespace mesh::analysis
