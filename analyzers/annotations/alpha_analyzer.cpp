// IST0136 for each Alpha annotation on a Namespace, Service, Pod or Deployment. Pods without
// an istio-init init container (CNI installs) get the traffic annotations the injector sets by
// default, so those are not reported there; annotations Istio sets itself never are.
#include "analyzers/annotations/alpha_analyzer.h"

#include "analyzers/annotations/annotation_table.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

bool setByDefaultWithCni(std::string_view name) {
  return name == "sidecar.istio.io/interceptionMode" ||
         name == "traffic.sidecar.istio.io/includeInboundPorts" ||
         name == "traffic.sidecar.istio.io/excludeInboundPorts" ||
         name == "traffic.sidecar.istio.io/includeOutboundIPRanges";
}

class AlphaAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "annotations.AlphaAnalyzer",
        "Checks for alpha Istio annotations in Kubernetes resources",
        {kinds::Namespace, kinds::Service, kinds::Pod, kinds::Deployment}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (KindRef kind : {kinds::Namespace, kinds::Service, kinds::Pod, kinds::Deployment})
      for (const core::Resource* r : snapshot.all(kind)) check(*r, reporter);
  }

 private:
  static void check(const core::Resource& r, Reporter& reporter) {
    const core::Node* annotations = r.annotations();
    if (!annotations) return;
    bool cni = false;
    if (r.kind() == "Pod") {
      cni = true;
      if (const core::Node* inits = r.spec() ? r.spec()->get("initContainers") : nullptr)
        for (const core::Node* c : inits->items())
          if (scalarAt(c, "name") == "istio-init") cni = false;
    }
    for (const core::MapEntry& e : annotations->entries()) {
      std::string name(e.key->text());
      if (!isIstioAnnotation(name)) continue;
      const AnnotationDef* def = findAnnotation(name);
      if (!def || def->status != FeatureStatus::Alpha || isAlwaysIgnoredAnnotation(name)) continue;
      if (cni && setByDefaultWithCni(name)) continue;
      reporter.report(messageType("AlphaAnnotation"), r, {name}, e.key);
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeAnnotationsAlphaAnalyzer() {
  return std::make_unique<AlphaAnalyzer>();
}

}  // namespace mesh::analysis
