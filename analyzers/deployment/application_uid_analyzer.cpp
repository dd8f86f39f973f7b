// applicationUID.Analyzer (Istio deployment.ApplicationUIDAnalyzer), IST0144: UID 1337 is the
// sidecar proxy's, so neither a pod securityContext nor an application container's may run as
// it, in Pods and in Deployment pod templates. Istio's own control-plane workloads are skipped.
#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

constexpr int64_t kProxyUid = 1337;

bool runsAsProxyUid(const core::Node* holder) {
  const core::Node* sc = holder ? holder->get("securityContext") : nullptr;
  const core::Node* uid = sc ? sc->get("runAsUser") : nullptr;
  return uid && uid->asInt() == kProxyUid;
}

class ApplicationUidAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"applicationUID.Analyzer",
                                    "Checks invalid application UID",
                                    {kinds::Pod, kinds::Deployment}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (KindRef kind : {kinds::Pod, kinds::Deployment})
      for (const core::Resource* r : snapshot.all(kind)) {
        if (isIstioControlPlane(*r)) continue;
        const core::Node* spec = podSpecOf(*r);
        bool invalid = runsAsProxyUid(spec);
        for (const core::Node* c : containersOf(spec, false)) {
          std::string_view name = scalarAt(c, "name");
          if (name != kIstioProxyContainer && name != "istio-operator" && runsAsProxyUid(c))
            invalid = true;
        }
        // Istio reports once per offending context; the copies are identical and collapse.
        if (invalid) reporter.report(messageType("InvalidApplicationUID"), *r, {});
      }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeApplicationUidAnalyzer() {
  return std::make_unique<ApplicationUidAnalyzer>();
}

}  // namespace mesh::analysis
