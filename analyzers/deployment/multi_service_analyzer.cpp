// deployment.MultiServiceAnalyzer (Istio deployment.ServiceAssociationAnalyzer): for each
// in-mesh Deployment (waypoints excepted), the Services in its namespace whose selector picks
// its pod template:
//  - IST0116: one port number served with different protocols by those Services;
//  - IST0137: one targetPort reached through different service ports.
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/selector_index.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

struct MatchedService {
  std::string name;  // "namespace/name", as Istio lists them
  const core::Node* spec;
};

class MultiServiceAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"deployment.MultiServiceAnalyzer",
                                    "Checks association between services and pods",
                                    {kinds::Service, kinds::Deployment, kinds::Namespace}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    SelectorIndex serviceIndex = serviceSelectors(snapshot);
    for (const core::Resource* d : snapshot.all(kinds::Deployment)) {
      if (d->label("gateway.istio.io/managed") == "istio.io-mesh-controller") continue;
      if (!deploymentInMesh(snapshot, *d)) continue;
      std::vector<MatchedService> services = matchingServices(serviceIndex, *d);
      checkProtocols(*d, services, reporter);
      checkTargetPorts(*d, services, reporter);
    }
  }

 private:
  // Services of the Deployment's namespace whose (non-empty) selector picks its pod template,
  // in Snapshot order.
  static std::vector<MatchedService> matchingServices(const SelectorIndex& serviceIndex,
                                                      const core::Resource& d) {
    std::vector<MatchedService> out;
    for (const core::Resource* svc : serviceIndex.selecting(d.namespace_(), podLabelsOf(d), false))
      out.push_back({resourceFullName(*svc), svc->spec()});
    return out;
  }

  static std::span<const core::Node* const> portsOf(const MatchedService& s) {
    const core::Node* ports = s.spec ? s.spec->get("ports") : nullptr;
    return ports ? ports->items() : std::span<const core::Node* const>();
  }

  static const core::Node* metadataName(const core::Resource& d) {
    return d.metadata() ? d.metadata()->get("name") : nullptr;
  }

  static void checkProtocols(const core::Resource& d, const std::vector<MatchedService>& services,
                             Reporter& reporter) {
    std::map<int64_t, std::map<std::string, std::vector<std::string>>>
        byPort;  // port → protocol → services
    for (const MatchedService& s : services)
      for (const core::Node* p : portsOf(s)) {
        std::string protocol(scalarAt(p, "protocol"));
        if (protocol.empty()) protocol = "TCP";
        int64_t port = p->get("port") ? p->get("port")->asInt().value_or(0) : 0;
        byPort[port][protocol].push_back(s.name);
      }
    for (const auto& [port, protocols] : byPort) {
      if (protocols.size() < 2) continue;
      std::vector<std::string> names;
      for (const auto& [_, list] : protocols) names.insert(names.end(), list.begin(), list.end());
      std::sort(names.begin(), names.end());
      reporter.report(messageType("DeploymentAssociatedToMultipleServices"), d,
                      {std::string(d.name()), port, names}, metadataName(d));
    }
  }

  static void checkTargetPorts(const core::Resource& d, const std::vector<MatchedService>& services,
                               Reporter& reporter) {
    std::map<std::string, std::map<int64_t, std::string>> byTarget;  // targetPort → port → service
    for (const MatchedService& s : services)
      for (const core::Node* p : portsOf(s)) {
        int64_t port = p->get("port") ? p->get("port")->asInt().value_or(0) : 0;
        std::string target(scalarAt(p, "targetPort"));
        // An unset targetPort is the port itself.
        if (target.empty() || target == "0") target = std::to_string(port);
        byTarget[target][port] = s.name;
      }
    for (const auto& [target, ports] : byTarget) {
      if (ports.size() < 2) continue;
      std::vector<std::string> names, portList;
      for (const auto& [port, name] : ports) {
        names.push_back(name);
        portList.push_back(std::to_string(port));
      }
      std::sort(names.begin(), names.end());
      reporter.report(messageType("DeploymentConflictingPorts"), d,
                      {std::string(d.name()), names, target, portList}, metadataName(d));
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeDeploymentMultiServiceAnalyzer() {
  return std::make_unique<MultiServiceAnalyzer>();
}

}  // namespace mesh::analysis
