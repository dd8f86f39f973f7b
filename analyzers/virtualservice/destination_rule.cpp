// virtualservice.DestinationRuleAnalyzer (Istio virtualservice/destinationrules.go): every
// subset a VirtualService routes or mirrors to must be defined by a DestinationRule for that
// host (IST0101 "host+subset in destinationrule" / "mirror+subset in destinationrule").
// Like Istio, hosts are compared as namespace/name after resolving "name.ns.svc.cluster.local"
// or a short name in the resource's own namespace; exportTo and wildcards play no part.
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/service_lookup.h"
#include "analyzers/virtualservice/vs_destinations.h"

namespace mesh::analysis {
namespace {

// (namespace, name, subset)
using HostSubset = std::tuple<std::string, std::string, std::string>;

class DestinationRuleAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"virtualservice.DestinationRuleAnalyzer",
                                    "Checks the destination rules associated with each virtual service",
                                    {kinds::VirtualService, kinds::DestinationRule}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::set<HostSubset> defined;
    for (const core::Resource* dr : snapshot.all(kinds::DestinationRule)) {
      const core::Node* spec = dr->spec();
      if (!spec) continue;
      std::string_view host = spec->get("host") ? spec->get("host")->text() : std::string_view();
      auto [ns, name] = resourceNameFromHost(dr->namespace_(), host);
      if (const core::Node* subsets = spec->get("subsets"))
        for (const core::Node* s : subsets->items())
          defined.emplace(ns, name, s->get("name") ? std::string(s->get("name")->text()) : std::string());
    }

    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      auto check = [&](const VsDestination& d, const char* what) {
        if (d.subset().empty()) return;
        auto [ns, name] = resourceNameFromHost(vs->namespace_(), d.host());
        if (defined.contains({ns, name, std::string(d.subset())})) return;
        reporter.report(messageType("ReferencedResourceNotFound"), *vs,
                        {std::string(what), std::string(d.host()) + "+" + std::string(d.subset())}, d.at);
      };
      for (const VsDestination& d : vsRouteDestinations(*vs)) check(d, "host+subset in destinationrule");
      for (const VsDestination& d : vsMirrorDestinations(*vs)) check(d, "mirror+subset in destinationrule");
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeVirtualServiceDestinationRuleAnalyzer() {
  return std::make_unique<DestinationRuleAnalyzer>();
}

}  // namespace mesh::analysis
