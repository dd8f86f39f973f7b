// annotations.K8sAnalyzer (Istio annotations.K8sAnalyzer): Istio-domain annotations on
// Namespaces, Services, Pods and Deployments.
//  - IST0108: not an annotation Istio defines.
//  - IST0135: deprecated (sidecar.istio.io/inject is let pass when the label is also set).
//  - IST0107: put on a kind it does not apply to (a Deployment's own metadata is never right
//    for pod annotations; they belong in the pod template).
//  - IST0125: a value the sidecar injector would reject.
#include <algorithm>

#include "analyzers/analyzer.h"
#include "analyzers/annotations/annotation_table.h"

namespace mesh::analysis {
namespace {

class K8sAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "annotations.K8sAnalyzer",
        "Checks for misplaced and invalid Istio annotations in Kubernetes resources",
        {kinds::Namespace, kinds::Service, kinds::Pod, kinds::Deployment}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (KindRef kind : {kinds::Namespace, kinds::Service, kinds::Pod, kinds::Deployment})
      for (const core::Resource* r : snapshot.all(kind)) check(*r, kind.kind, reporter);
  }

 private:
  static void check(const core::Resource& r, std::string_view kind, Reporter& reporter) {
    const core::Node* annotations = r.annotations();
    if (!annotations) return;
    for (const core::MapEntry& e : annotations->entries()) {
      std::string name(e.key->text());
      if (!isIstioAnnotation(name) || isAlwaysIgnoredAnnotation(name)) continue;
      const AnnotationDef* def = findAnnotation(name);
      if (!def) {
        reporter.report(messageType("UnknownAnnotation"), r, {name}, e.key);
        continue;
      }
      if (def->deprecated) {
        // Having both the deprecated annotation and its replacement label is deliberate.
        bool replaced = name == "sidecar.istio.io/inject" && r.labels() && r.labels()->find(name);
        if (!replaced) {
          std::string extra = name == "sidecar.istio.io/inject"
                                  ? " in favor of the \"sidecar.istio.io/inject\" label"
                                  : "";
          reporter.report(messageType("DeprecatedAnnotation"), r, {name, extra}, e.key);
        }
      }
      std::vector<std::string_view> attachesTo = annotationResources(*def);
      if (std::find(attachesTo.begin(), attachesTo.end(), "Any") != attachesTo.end()) continue;
      if (std::find(attachesTo.begin(), attachesTo.end(), kind) == attachesTo.end()) {
        std::string list;
        for (std::string_view k : attachesTo) list += (list.empty() ? "" : ", ") + std::string(k);
        reporter.report(messageType("MisplacedAnnotation"), r, {name, list}, e.key);
        continue;
      }
      if (auto err = validateAnnotationValue(name, e.value->text()))
        reporter.report(messageType("InvalidAnnotation"), r, {name, *err}, e.key);
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeAnnotationsK8sAnalyzer() { return std::make_unique<K8sAnalyzer>(); }

}  // namespace mesh::analysis
