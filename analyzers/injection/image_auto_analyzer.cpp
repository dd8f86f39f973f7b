// injection.ImageAutoAnalyzer (Istio injection.ImageAutoAnalyzer): `image: auto` on an
// istio-proxy container is only replaced by the injection webhook.
//  - IST0147 (error): a Pod that still has it was not injected, whatever the webhooks say.
//  - IST0146 (warning): a Deployment whose pods no Istio webhook (name ending in "istio.io")
//    would select, by namespace selector and object selector.
#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

bool hasAutoImage(const core::Node* podSpec) {
  for (const core::Node* c : containersOf(podSpec, false))
    if (scalarAt(c, "name") == kIstioProxyContainer && scalarAt(c, "image") == "auto") return true;
  return false;
}

// A webhook's selector: absent selects everything (admission webhook default).
bool webhookSelectorMatches(const core::Node* selector, const Labels& labels) {
  if (!selector || selector->isNull()) return true;
  return LabelSelector::fromLabelSelector(selector).matches(labels);
}

class ImageAutoAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "injection.ImageAutoAnalyzer",
        "Makes sure that Pods and Deployments with `image: auto` are going to be injected",
        {kinds::Namespace, kinds::Pod, kinds::Deployment, kinds::MutatingWebhookConfiguration}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::vector<const core::Node*> webhooks;
    for (const core::Resource* mwc : snapshot.all(kinds::MutatingWebhookConfiguration))
      if (const core::Node* list = mwc->root().get("webhooks"))
        for (const core::Node* wh : list->items())
          if (scalarAt(wh, "name").ends_with("istio.io")) webhooks.push_back(wh);

    for (const core::Resource* pod : snapshot.all(kinds::Pod))
      if (hasAutoImage(pod->spec()))
        reporter.report(messageType("ImageAutoWithoutInjectionError"), *pod,
                        {std::string("Pod"), std::string(pod->name())});

    for (const core::Resource* d : snapshot.all(kinds::Deployment)) {
      if (!hasAutoImage(podSpecOf(*d))) continue;
      std::string_view nsName =
          d->namespace_().empty() ? std::string_view("default") : d->namespace_();
      const core::Resource* ns = snapshot.find(kinds::Namespace, "", nsName);
      Labels nsLabels = ns ? labelsOf(*ns) : Labels{};
      Labels podLabels = labelsFrom(podLabelsOf(*d));
      bool selected = false;
      for (const core::Node* wh : webhooks)
        if (webhookSelectorMatches(wh->get("namespaceSelector"), nsLabels) &&
            webhookSelectorMatches(wh->get("objectSelector"), podLabels)) {
          selected = true;
          break;
        }
      if (!selected)
        reporter.report(messageType("ImageAutoWithoutInjectionWarning"), *d,
                        {std::string("Deployment"), std::string(d->name())});
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeInjectionImageAutoAnalyzer() {
  return std::make_unique<ImageAutoAnalyzer>();
}

}  // namespace mesh::analysis
