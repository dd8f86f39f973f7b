// virtualservice.JWTClaimRouteAnalyzer (Istio virtualservice/jwtclaimroute.go): a
// VirtualService bound to a gateway that matches on "@request.auth.claims.*" headers only
// works when a RequestAuthentication (in istio-system or the pod's namespace) selects every
// pod of that gateway; otherwise the claims are never populated (IST0149, once per pod).
#include <map>

#include "analyzers/analyzer.h"
#include "analyzers/util/selector_index.h"
#include "analyzers/util/selectors.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kClaimHeaderPrefix = "@request.auth.claims";
// Istio looks in its fixed system namespace here, not in the mesh's root namespace.
constexpr std::string_view kIstioSystem = "istio-system";

// The first header (or withoutHeaders) key of an http match that routes on a JWT claim.
std::string claimRouteKey(const core::Resource& vs) {
  const core::Node* spec = vs.spec();
  const core::Node* http = spec ? spec->get("http") : nullptr;
  if (!http) return {};
  for (const core::Node* route : http->items()) {
    const core::Node* matches = route->get("match");
    if (!matches) continue;
    for (const core::Node* m : matches->items()) {
      for (std::string_view field : {"headers", "withoutHeaders"}) {
        const core::Node* headers = m->get(field);
        if (!headers) continue;
        for (const core::MapEntry& e : headers->entries())
          if (e.key->text().starts_with(kClaimHeaderPrefix)) return std::string(e.key->text());
      }
    }
  }
  return {};
}

class JwtClaimRouteAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "virtualservice.JWTClaimRouteAnalyzer",
        "Checks the VirtualService using JWT claim based routing has corresponding RequestAuthentication",
        {kinds::VirtualService, kinds::RequestAuthentication, kinds::Gateway, kinds::Pod}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    SelectorIndex authn;
    for (const core::Resource* ra : snapshot.all(kinds::RequestAuthentication)) {
      const core::Node* spec = ra->spec();
      const core::Node* sel = spec ? spec->get("selector") : nullptr;
      authn.add(ra->namespace_(), ra, sel ? sel->get("matchLabels") : nullptr);
    }
    auto hasAuthn = [&](std::string_view ns, const core::Resource& pod) {
      return !authn.selecting(ns, pod.labels(), true).empty();
    };
    // Per gateway, its pods that no RequestAuthentication selects.
    std::map<const core::Resource*, std::vector<const core::Resource*>> unauthenticated;

    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      std::string key = claimRouteKey(*vs);
      if (key.empty()) continue;
      const core::Node* gateways = vs->spec()->get("gateways");
      if (!gateways) continue;
      for (const core::Node* g : gateways->items()) {
        std::string_view gwName = g->text();
        if (gwName == "mesh") continue;
        std::string ns(vs->namespace_()), name(gwName);
        if (size_t slash = gwName.find('/'); slash != std::string_view::npos) {
          ns = gwName.substr(0, slash);
          name = gwName.substr(slash + 1);
        }
        // A missing gateway is the GatewayAnalyzer's finding.
        const core::Resource* gw = snapshot.find(kinds::Gateway, ns, name);
        if (!gw) continue;
        std::string gwFullName = ns.empty() ? name : ns + "/" + name;
        auto [pods, added] = unauthenticated.try_emplace(gw);
        if (added) {
          LabelSelector gwSelector = LabelSelector::fromSet(gw->spec() ? gw->spec()->get("selector") : nullptr);
          for (const core::Resource* pod : selectPods(snapshot, gwSelector))
            if (!hasAuthn(kIstioSystem, *pod) && !hasAuthn(pod->namespace_(), *pod)) pods->second.push_back(pod);
        }
        for (const core::Resource* pod : pods->second)
          reporter.report(messageType("JwtClaimBasedRoutingWithoutRequestAuthN"), *vs,
                          {key, gwFullName, std::string(pod->name())});
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeJwtClaimRouteAnalyzer() { return std::make_unique<JwtClaimRouteAnalyzer>(); }

}  // namespace mesh::analysis
