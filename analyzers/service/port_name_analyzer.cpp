// service.PortNameAnalyzer (Istio service.PortNameAnalyzer): Istio infers a port's protocol
// from appProtocol or the `<protocol>[-suffix]` port name.
//  - IST0118: a port whose protocol cannot be inferred (UDP, SCTP and the well-known TCP
//    ports 25, 53, 3306 and 27017 excepted);
//  - IST0150: the same on an ExternalName Service, where a port named "tcp" is also flagged.
// Istio control-plane Services and Services generated for Gateway-API gateways are skipped.
#include <algorithm>
#include <cctype>

#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"

namespace mesh::analysis {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Istio's protocol.Parse, case-insensitive.
bool knownProtocol(std::string_view name) {
  static constexpr std::string_view kKnown[] = {"tcp",        "udp",   "grpc",  "grpc-web", "http",
                                                "http_proxy", "http2", "https", "tls",      "mongo",
                                                "redis",      "mysql", "hbone"};
  std::string l = lower(name);
  return std::find(std::begin(kKnown), std::end(kKnown), l) != std::end(kKnown);
}

// kube.ConvertProtocol(...).IsUnsupported().
bool protocolUnsupported(const core::Node* port) {
  std::string_view proto = scalarAt(port, "protocol");
  if (proto == "UDP" || proto == "SCTP") return false;
  std::string_view name = scalarAt(port, "name");
  if (hasKey(port, "appProtocol")) {
    name = scalarAt(port, "appProtocol");
    // Kubernetes' standard application protocols.
    if (name == "kubernetes.io/h2c" || name == "kubernetes.io/ws" || name == "kubernetes.io/wss")
      return false;
  }
  if (name.size() >= 8 && lower(name.substr(0, 8)) == "grpc-web") return false;
  if (size_t dash = name.find('-'); dash != std::string_view::npos) name = name.substr(0, dash);
  if (knownProtocol(name)) return false;
  int64_t number = port->get("port") ? port->get("port")->asInt().value_or(0) : 0;
  return !(number == 25 || number == 53 || number == 3306 || number == 27017);
}

class PortNameAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"service.PortNameAnalyzer",
                                    "Checks the port names associated with each service",
                                    {kinds::Service}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    for (const core::Resource* svc : snapshot.all(kinds::Service)) {
      if (isIstioControlPlane(*svc)) continue;
      std::string_view managed = svc->label("gateway.istio.io/managed");
      if (managed == "istio.io-gateway-controller" || managed == "istio.io-mesh-controller" ||
          managed == "istio.io-eastwest-controller")
        continue;
      const core::Node* spec = svc->spec();
      bool externalName = scalarAt(spec, "type") == "ExternalName";
      const core::Node* ports = spec ? spec->get("ports") : nullptr;
      if (!ports) continue;
      for (const core::Node* p : ports->items()) {
        std::string_view name = scalarAt(p, "name");
        if (!protocolUnsupported(p) && !(name == "tcp" && externalName)) continue;
        const core::Node* portNode = p->get("port");  // Istio's reference line
        if (externalName) {
          reporter.report(messageType("ExternalNameServiceTypeInvalidPortName"), *svc, {},
                          portNode);
          continue;
        }
        int64_t number = p->get("port") ? p->get("port")->asInt().value_or(0) : 0;
        std::string_view targetPort = scalarAt(p, "targetPort");
        std::string target(targetPort.empty() ? std::string_view("0")
                                              : targetPort);  // unset prints as 0
        reporter.report(messageType("PortNameIsNotUnderNamingConvention"), *svc,
                        {std::string(name), number, target}, portNode);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeServicePortNameAnalyzer() {
  return std::make_unique<PortNameAnalyzer>();
}

}  // namespace mesh::analysis
