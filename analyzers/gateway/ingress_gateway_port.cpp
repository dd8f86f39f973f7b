// gateway.IngressGatewayPortAnalyzer: a Gateway's selector must match some pod (IST0101), and
// every server port must be reachable through a Service selecting those pods (IST0162). A
// server port is reachable when it is a TCP Service port (istiod then listens on its targetPort)
// or a Service's targetPort, following Istio's fix for IST0162 false positives (#51257).
#include <charconv>
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/selector_index.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

// Kubernetes IntOrString.IntValue(): an int, or a numeric string; anything else is 0.
int64_t intOrStringValue(const core::Node* n) {
  if (!n || !n->isScalar()) return 0;
  if (auto i = n->asInt()) return *i;
  std::string_view s = n->text();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() ? v : 0;
}

// The port numbers a server port may use through `svc`: its TCP ports and their targetPorts.
void addReachablePorts(const core::Resource& svc, std::set<int64_t>& out) {
  const core::Node* ports = svc.spec() ? svc.spec()->get("ports") : nullptr;
  if (!ports) return;
  for (const core::Node* p : ports->items()) {
    const core::Node* protocol = p->get("protocol");
    if (!protocol || protocol->text() != "TCP") continue;
    out.insert(intOrStringValue(p->get("port")));
    if (int64_t target = intOrStringValue(p->get("targetPort")); target != 0) out.insert(target);
  }
}

// What a gateway selector reaches: how many pods it selects, and the ports reachable on them.
struct Reach {
  size_t pods = 0;
  std::set<int64_t> ports;
};

class IngressGatewayPortAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"gateway.IngressGatewayPortAnalyzer",
                                    "Checks a gateway's ports against the gateway's Kubernetes service ports",
                                    {kinds::Gateway, kinds::Pod, kinds::Service}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    // Services select pods of their own namespace only; a Service without a selector is
    // treated as selecting every pod there, as Istio's SelectorFromSet does.
    SelectorIndex services = serviceSelectors(snapshot);
    std::map<Labels, Reach> reachBySelector;  // Gateways often share a selector

    for (const core::Resource* gw : snapshot.all(kinds::Gateway)) {
      const core::Node* spec = gw->spec();
      const core::Node* selectorNode = spec ? spec->get("selector") : nullptr;
      LabelSelector gwSelector = LabelSelector::fromSet(selectorNode);
      auto [it, added] = reachBySelector.try_emplace(labelsFrom(selectorNode));
      Reach& reach = it->second;
      if (added) {
        std::set<std::string_view> namespaces;  // selector-less Services count once per namespace
        for (const core::Resource* pod : selectPods(snapshot, gwSelector)) {
          ++reach.pods;
          bool firstInNamespace = namespaces.insert(pod->namespace_()).second;
          for (const core::Resource* svc : services.selecting(pod->namespace_(), pod->labels(), firstInNamespace))
            addReachablePorts(*svc, reach.ports);
        }
      }

      std::string selector = gwSelector.toString();
      if (reach.pods == 0) {
        reporter.report(messageType("ReferencedResourceNotFound"), *gw, {std::string("selector"), selector},
                        selectorNode);
        continue;
      }
      const core::Node* servers = spec ? spec->get("servers") : nullptr;
      if (!servers) continue;
      for (const core::Node* server : servers->items()) {
        const core::Node* port = server->get("port");
        if (!port || port->isNull()) continue;
        const core::Node* number = port->get("number");
        int64_t n = number && number->asInt() ? *number->asInt() : 0;
        if (!reach.ports.contains(n))
          reporter.report(messageType("GatewayPortNotDefinedOnService"), *gw, {n, selector}, selectorNode);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeGatewayIngressGatewayPortAnalyzer() {
  return std::make_unique<IngressGatewayPortAnalyzer>();
}

}  // namespace mesh::analysis
