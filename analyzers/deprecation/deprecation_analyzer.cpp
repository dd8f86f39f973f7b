// deprecation.DeprecationAnalyzer (Istio deprecation.FieldAnalyzer), IST0002, for deprecated
// fields Istio still accepts: VirtualService http[].fault.delay.percent (use percentage),
// Sidecar outboundTrafficPolicy.egressProxy (ignored), and CRDs of Istio kinds that were
// removed (the rbac.istio.io types). Like Istio, messages carry the resource's own line, so
// several deprecated uses in one resource read as one message.
#include <array>

#include "analyzers/analyzer.h"

namespace mesh::analysis {
namespace {

struct RemovedCrd {
  std::string_view group;
  std::string_view kind;
};

constexpr std::array kRemovedCrds = {
    RemovedCrd{"rbac.istio.io", "ClusterRbacConfig"},
    RemovedCrd{"rbac.istio.io", "RbacConfig"},
    RemovedCrd{"rbac.istio.io", "ServiceRole"},
    RemovedCrd{"rbac.istio.io", "ServiceRoleBinding"},
};

class DeprecationAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "deprecation.DeprecationAnalyzer",
        "Checks for deprecated Istio types and fields",
        {kinds::VirtualService, kinds::Sidecar, kinds::CustomResourceDefinition}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    const MessageType& deprecated = messageType("Deprecated");
    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      const core::Node* http = vs->spec() ? vs->spec()->get("http") : nullptr;
      if (!http) continue;
      for (const core::Node* route : http->items()) {
        const core::Node* fault = route->get("fault");
        const core::Node* delay = fault ? fault->get("delay") : nullptr;
        const core::Node* percent = delay ? delay->get("percent") : nullptr;
        if (percent && percent->asInt().value_or(0) > 0)
          reporter.report(deprecated, *vs,
                          {std::string("HTTPRoute.fault.delay.percent is deprecated; use "
                                       "HTTPRoute.fault.delay.percentage")});
      }
    }
    for (const core::Resource* sc : snapshot.all(kinds::Sidecar)) {
      const core::Node* policy = sc->spec() ? sc->spec()->get("outboundTrafficPolicy") : nullptr;
      const core::Node* egress = policy ? policy->get("egressProxy") : nullptr;
      if (egress && !egress->isNull())
        reporter.report(deprecated, *sc,
                        {std::string("OutboundTrafficPolicy.EgressProxy ignored")});
    }
    for (const core::Resource* crd : snapshot.all(kinds::CustomResourceDefinition)) {
      const core::Node* spec = crd->spec();
      const core::Node* group = spec ? spec->get("group") : nullptr;
      const core::Node* names = spec ? spec->get("names") : nullptr;
      const core::Node* kind = names ? names->get("kind") : nullptr;
      if (!group || !kind) continue;
      for (const RemovedCrd& removed : kRemovedCrds)
        if (group->text() == removed.group && kind->text() == removed.kind)
          reporter.report(deprecated, *crd,
                          {"Custom resource type " + std::string(removed.group) + " " +
                           std::string(removed.kind) + " is removed"});
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeDeprecationAnalyzer() {
  return std::make_unique<DeprecationAnalyzer>();
}

}  // namespace mesh::analysis
