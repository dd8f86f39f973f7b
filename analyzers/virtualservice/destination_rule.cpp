// virtualservice.DestinationRuleAnalyzer: every subset a VirtualService routes or mirrors to
// must be defined by a DestinationRule for that host (IST0101 "host+subset in destinationrule").
#include "analyzers/analyzer.h"
#include "analyzers/util/hosts.h"
#include "analyzers/util/routes.h"

namespace mesh::analysis {
namespace {

class DestinationRuleAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"virtualservice.DestinationRuleAnalyzer",
                                    "Checks the destination rules associated with each virtual service",
                                    {kinds::VirtualService, kinds::DestinationRule}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      forEachDestination(*vs, [&](const Destination& d) {
        if (d.subset.empty()) return;
        std::string host = hostToFqdn(d.host, vs->namespace_());
        if (!subsetDefined(snapshot, *vs, host, d.subset))
          reporter.report(messageType("ReferencedResourceNotFound"), *vs,
                          {std::string("host+subset in destinationrule"), host + "+" + std::string(d.subset)},
                          d.node);
      });
    }
  }

 private:
  static bool subsetDefined(const Snapshot& snapshot, const core::Resource& vs, const std::string& host,
                            std::string_view subset) {
    for (const core::Resource* dr : snapshot.all(kinds::DestinationRule)) {
      const core::Node* spec = dr->spec();
      const core::Node* drHost = spec ? spec->get("host") : nullptr;
      if (!drHost || !drHost->isScalar()) continue;
      if (!visibleTo(*dr, vs.namespace_())) continue;
      if (hostToFqdn(drHost->text(), dr->namespace_()) != host) continue;
      const core::Node* subsets = spec->get("subsets");
      if (!subsets) continue;
      for (const core::Node* s : subsets->items()) {
        const core::Node* name = s->get("name");
        if (name && name->text() == subset) return true;
      }
    }
    return false;
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeVirtualServiceDestinationRuleAnalyzer() {
  return std::make_unique<DestinationRuleAnalyzer>();
}

}  // namespace mesh::analysis
