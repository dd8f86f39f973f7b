// destinationrule.SubsetSelectPodAnalyzer (Istio destinationrule/subset.go, type
// PodNotSelectedAnalyzer): a DestinationRule's host must be a Service or ServiceEntry visible
// from its namespace (IST0174), and each subset's labels (merged over the ServiceEntry's
// workloadSelector) must select at least one pod (IST0173). As Istio's service registry
// does, pod labels are augmented with the topology labels of the node the pod runs on; a
// topology label with an empty value is not added.
#include <algorithm>
#include <map>
#include <optional>
#include <span>

#include "analyzers/analyzer.h"
#include "analyzers/util/selectors.h"
#include "analyzers/util/service_lookup.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kTopologyLabels[] = {"topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                                                "topology.istio.io/subzone"};
constexpr std::string_view kHostnameLabel = "kubernetes.io/hostname";

bool isNodeLabel(std::string_view key) {
  return key == kHostnameLabel || std::find(std::begin(kTopologyLabels), std::end(kTopologyLabels), key) !=
                                      std::end(kTopologyLabels);
}

// Pod labels as Istio's registry sees them, read in place: a pod on a known Node takes that
// node's non-empty topology labels and kubernetes.io/hostname=<nodeName> over its own labels.
class PodLabels {
 public:
  explicit PodLabels(const Snapshot& snapshot) : snapshot_(snapshot) {
    for (const core::Resource* n : snapshot.all(kinds::Node)) nodes_[n->name()] = n;
  }

  std::optional<std::string_view> value(const core::Resource& pod, std::string_view key) const {
    if (isNodeLabel(key)) {
      const core::Node* spec = pod.spec();
      const core::Node* nodeName = spec ? spec->get("nodeName") : nullptr;
      auto node = nodeName && !nodeName->text().empty() ? nodes_.find(nodeName->text()) : nodes_.end();
      if (node != nodes_.end()) {
        if (key == kHostnameLabel) return nodeName->text();
        if (auto v = labelValue(node->second->labels(), key); v && !v->empty()) return v;
      }
    }
    return labelValue(pod.labels(), key);
  }

  bool matches(const LabelSelector& selector, const core::Resource& pod) const {
    return selector.matchesLookup([&](std::string_view key) { return value(pod, key); });
  }

  // The pods that may match `selector` (a plain-map selector): those with the label of its
  // rarest requirement; all pods when it has none.
  std::span<const core::Resource* const> candidates(const LabelSelector& selector) {
    std::span<const core::Resource* const> best = snapshot_.all(kinds::Pod);
    for (const LabelSelector::Requirement& r : selector.requirements()) {
      auto pods = isNodeLabel(r.key) ? withNodeLabel(r.key, r.values.front())
                                     : snapshot_.podsWithLabel(r.key, r.values.front());
      if (pods.size() < best.size()) best = pods;
    }
    return best;
  }

 private:
  // The Snapshot's label index knows only the pods' own labels; node labels get their own,
  // built on first use.
  std::span<const core::Resource* const> withNodeLabel(std::string_view key, std::string_view value) {
    if (!nodeLabelIndexed_) {
      for (const core::Resource* pod : snapshot_.all(kinds::Pod)) {
        for (std::string_view k : kTopologyLabels)
          if (auto v = this->value(*pod, k)) byNodeLabel_[{k, *v}].push_back(pod);
        if (auto v = this->value(*pod, kHostnameLabel)) byNodeLabel_[{kHostnameLabel, *v}].push_back(pod);
      }
      nodeLabelIndexed_ = true;
    }
    auto it = byNodeLabel_.find(std::pair(key, value));
    if (it == byNodeLabel_.end()) return {};
    return it->second;
  }

  const Snapshot& snapshot_;
  std::map<std::string_view, const core::Resource*> nodes_;
  bool nodeLabelIndexed_ = false;
  std::map<std::pair<std::string_view, std::string_view>, std::vector<const core::Resource*>> byNodeLabel_;
};

struct SubsetMatcher {
  const core::Resource* dr;
  std::string subset;
  LabelSelector selector;
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

    std::vector<SubsetMatcher> matchers;
    std::map<std::pair<const core::Resource*, std::string>, size_t> matcherOf;  // (dr, subset) → matchers
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
        auto [it, added] = matcherOf.try_emplace({dr, name}, matchers.size());
        if (added)
          matchers.push_back({dr, name, LabelSelector::fromSet(merged)});
        else
          matchers[it->second].selector = LabelSelector::fromSet(merged);
      }
    }
    if (matchers.empty()) return;

    // Every pod counts, whatever its namespace, as in Istio.
    PodLabels pods(snapshot);
    for (const SubsetMatcher& m : matchers) {
      auto candidates = pods.candidates(m.selector);
      bool matched = std::any_of(candidates.begin(), candidates.end(),
                                 [&](const core::Resource* pod) { return pods.matches(m.selector, *pod); });
      if (!matched) reporter.report(messageType("DestinationRuleSubsetNotSelectPods"), *m.dr, {m.subset});
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeSubsetSelectPodAnalyzer() { return std::make_unique<SubsetSelectPodAnalyzer>(); }

}  // namespace mesh::analysis
