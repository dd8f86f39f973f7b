// injection.Analyzer (Istio injection.Analyzer): namespace injection labels and pods that
// should carry a sidecar.
//  - IST0123: a namespace with more than one of istio-injection, istio.io/rev and
//    istio.io/dataplane-mode (rev and dataplane-mode only count when istio-injection is
//    absent or "enabled").
//  - IST0102 / IST0148: a namespace with neither injection label; IST0148 instead when the
//    injector ConfigMap for its revision sets sidecarInjectorWebhook.enableNamespacesByDefault.
//  - IST0103: a pod in an `istio-injection=enabled` namespace without an istio-proxy container
//    (regular or native sidecar), unless it opts out or uses the host network.
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

class InjectionAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"injection.Analyzer",
                                    "Checks conditions related to Istio sidecar injection",
                                    {kinds::Namespace, kinds::Pod, kinds::ConfigMap}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::set<std::string, std::less<>> injected;
    // As in Istio, the flag carries over from one namespace to the next when a namespace's
    // revision has no injector ConfigMap.
    bool enableByDefault = false;
    // Injector ConfigMaps are looked up by name alone; the first of a name (in Snapshot order)
    // counts.
    std::map<std::string_view, const core::Resource*> configMaps;
    for (const core::Resource* cm : snapshot.all(kinds::ConfigMap)) configMaps.emplace(cm->name(), cm);

    for (const core::Resource* ns : snapshot.all(kinds::Namespace)) {
      if (ns->name() == "istio-system") continue;
      const core::Node* labels = ns->labels();
      bool hasInjection = hasKey(labels, kInjectionLabel);
      std::string_view injection = scalarAt(labels, kInjectionLabel);
      bool hasRevision = hasKey(labels, kRevisionLabel);
      std::string_view revision = scalarAt(labels, kRevisionLabel);

      std::vector<std::string> istioLabels;
      if (hasInjection)
        istioLabels.push_back(std::string(kInjectionLabel) + "=" + std::string(injection));
      for (std::string_view key : {kRevisionLabel, kDataplaneModeLabel})
        if (hasKey(labels, key) && (!hasInjection || injection == "enabled"))
          istioLabels.push_back(std::string(key) + "=" + std::string(scalarAt(labels, key)));
      if (istioLabels.size() > 1)
        reporter.report(messageType("NamespaceMultipleInjectionLabels"), *ns, {istioLabels});

      if (scalarAt(labels, kDataplaneModeLabel) == "ambient") continue;

      if (auto cm = configMaps.find(injectorConfigMapName(revision)); cm != configMaps.end())
        enableByDefault = enableNamespacesByDefault(*cm->second);

      if (injection.empty() && !hasRevision) {
        if (enableByDefault) {
          reporter.report(messageType("NamespaceInjectionEnabledByDefault"), *ns, {});
        } else {
          std::string name(ns->name());
          reporter.report(messageType("NamespaceNotInjected"), *ns, {name, name}, nameNode(*ns));
        }
        continue;
      }
      // Any other value of the legacy label deliberately opts out; a revision label alone
      // does not make the pods checked here.
      if (injection != "enabled") continue;
      injected.insert(std::string(ns->name()));
    }

    for (const core::Resource* pod : snapshot.all(kinds::Pod)) {
      if (!injected.contains(pod->namespace_())) continue;
      std::string_view inject = pod->annotation(kSidecarInjectKey);
      if (hasKey(pod->labels(), kSidecarInjectKey)) inject = pod->label(kSidecarInjectKey);
      if (equalsFold(inject, "false")) continue;
      const core::Node* spec = pod->spec();
      if (const core::Node* host = spec ? spec->get("hostNetwork") : nullptr;
          host && host->asBool().value_or(false))
        continue;
      std::string_view image;
      for (const core::Node* c : containersOf(spec, true)) {
        if (scalarAt(c, "name") != kIstioProxyContainer) continue;
        image = scalarAt(c, "image");
        break;
      }
      if (image.empty())
        reporter.report(messageType("PodMissingProxy"), *pod, {resourceFullName(*pod)});
    }
  }

 private:
  static const core::Node* nameNode(const core::Resource& r) {
    const core::Node* m = r.metadata();
    return m ? m->get("name") : nullptr;
  }

  static bool equalsFold(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i])))
        return false;
    return true;
  }

  // sidecarInjectorWebhook.enableNamespacesByDefault in the injector's values (Istio panics on
  // values without that object; here it reads as false).
  static bool enableNamespacesByDefault(const core::Resource& cm) {
    auto values = injectorValues(cm);
    if (!values || !values->is_object()) return false;
    auto webhook = values->find("sidecarInjectorWebhook");
    if (webhook == values->end() || !webhook->is_object()) return false;
    auto flag = webhook->find("enableNamespacesByDefault");
    return flag != webhook->end() && flag->is_boolean() && flag->get<bool>();
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeInjectionAnalyzer() { return std::make_unique<InjectionAnalyzer>(); }

}  // namespace mesh::analysis
