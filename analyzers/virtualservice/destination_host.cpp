// virtualservice.DestinationHostAnalyzer (Istio virtualservice/destinationhosts.go):
// - route and mirror destination hosts must name a Service or ServiceEntry visible from the
//   VirtualService's namespace (IST0101 "host" / "mirror host");
// - with no port set, the service must expose exactly one port (IST0112); a port set must
//   exist on it (IST0101 "host:port");
// - a VirtualService bound to gateways that routes to a host without a subset, while some
//   mesh VirtualService for that host routes by subset, gets IST0140: ingress traffic skips
//   the sidecar routing that would apply the subset.
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/service_lookup.h"
#include "analyzers/virtualservice/vs_destinations.h"

namespace mesh::analysis {
namespace {

std::string fullName(const core::Resource& r) {
  return r.namespace_().empty() ? std::string(r.name()) : std::string(r.namespace_()) + "/" + std::string(r.name());
}

using SubsetRoutes = std::map<std::string_view, std::vector<const core::Resource*>>;

class DestinationHostAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"virtualservice.DestinationHostAnalyzer",
                                    "Checks the destination hosts associated with each virtual service",
                                    {kinds::ServiceEntry, kinds::VirtualService, kinds::Service}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    ServiceHostIndex services(snapshot);

    // By host, the VirtualServices with an http subset destination to that host that is also
    // one of their own hosts: once per such destination and equal host, in Snapshot order.
    SubsetRoutes subsetRoutes;
    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      std::vector<std::string> hosts = stringList(vs->spec() ? vs->spec()->get("hosts") : nullptr);
      for (const VsDestination& d : vsRouteDestinations(*vs)) {
        if (d.routeRule != "http" || d.subset().empty()) continue;
        for (const std::string& h : hosts)
          if (d.host() == h) subsetRoutes[d.host()].push_back(vs);
      }
    }

    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      checkHosts(*vs, services, reporter);
      checkIngressSubsets(*vs, subsetRoutes, reporter);
    }
  }

 private:
  static void checkHosts(const core::Resource& vs, const ServiceHostIndex& services, Reporter& reporter) {
    std::vector<std::string> exportTo = stringList(vs.spec() ? vs.spec()->get("exportTo") : nullptr);
    auto check = [&](const VsDestination& d, const char* what) {
      const ServiceHostEntry* se = services.lookup(vs.namespace_(), exportTo, d.host());
      if (!se) {
        reporter.report(messageType("ReferencedResourceNotFound"), vs, {std::string(what), std::string(d.host())},
                        d.at);
        return;
      }
      checkPorts(vs, d, *se, reporter);
    };
    for (const VsDestination& d : vsRouteDestinations(vs)) check(d, "host");
    for (const VsDestination& d : vsMirrorDestinations(vs)) check(d, "mirror host");
  }

  static void checkPorts(const core::Resource& vs, const VsDestination& d, const ServiceHostEntry& se,
                         Reporter& reporter) {
    const core::Node* port = d.port();
    if (!port) {
      if (se.ports.size() <= 1) return;
      std::vector<std::string> numbers;
      for (int64_t p : se.ports) numbers.push_back(std::to_string(p));
      reporter.report(messageType("VirtualServiceDestinationPortSelectorRequired"), vs,
                      {std::string(d.host()), numbers}, d.at);
      return;
    }
    const core::Node* number = port->get("number");
    int64_t want = number ? number->asInt().value_or(0) : 0;
    for (int64_t p : se.ports)
      if (p == want) return;
    reporter.report(messageType("ReferencedResourceNotFound"), vs,
                    {std::string("host:port"), std::string(d.host()) + ":" + std::to_string(want)}, d.at);
  }

  static void checkIngressSubsets(const core::Resource& vs, const SubsetRoutes& subsetRoutes, Reporter& reporter) {
    const core::Node* gateways = vs.spec() ? vs.spec()->get("gateways") : nullptr;
    if (!gateways || gateways->size() == 0) return;
    for (const VsDestination& d : vsRouteDestinations(vs)) {
      if (d.routeRule != "http" || !d.subset().empty()) continue;
      auto routes = subsetRoutes.find(d.host());
      if (routes == subsetRoutes.end()) continue;
      for (const core::Resource* other : routes->second)
        reporter.report(messageType("IngressRouteRulesNotAffected"), vs, {fullName(*other), fullName(vs)}, d.at);
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeDestinationHostAnalyzer() { return std::make_unique<DestinationHostAnalyzer>(); }

}  // namespace mesh::analysis
