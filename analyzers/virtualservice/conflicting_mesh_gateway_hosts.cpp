// virtualservice.ConflictingMeshGatewayHostsAnalyzer (Istio virtualservice/
// conflictingmeshgatewayhosts.go): VirtualServices bound to the "mesh" gateway (explicitly,
// or by naming no gateway) that define the same host in the same exportTo scope (IST0109).
// A host exported to particular namespaces also conflicts with any host exported to all
// namespaces that it overlaps, wildcards included.
#include <map>
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/hosts.h"
#include "analyzers/util/service_lookup.h"

namespace mesh::analysis {
namespace {

constexpr std::string_view kAllNamespaces = "*";

struct ScopedHost {
  std::string scope;
  std::string fqdn;
  auto operator<=>(const ScopedHost&) const = default;
  std::string str() const { return scope + "/" + fqdn; }
};

bool boundToMesh(const core::Node* spec) {
  const core::Node* gateways = spec->get("gateways");
  if (!gateways || gateways->size() == 0) return true;
  for (const core::Node* g : gateways->items())
    if (g->text() == "mesh") return true;
  return false;
}

std::string fullName(const core::Resource& r) {
  return r.namespace_().empty() ? std::string(r.name()) : std::string(r.namespace_()) + "/" + std::string(r.name());
}

class ConflictingMeshGatewayHostsAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "virtualservice.ConflictingMeshGatewayHostsAnalyzer",
        "Checks if multiple virtual services associated with the mesh gateway have conflicting hosts",
        {kinds::VirtualService}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::string domain = clusterDomainOf(snapshot);
    std::map<ScopedHost, std::vector<const core::Resource*>> byHost;
    for (const core::Resource* vs : snapshot.all(kinds::VirtualService)) {
      const core::Node* spec = vs->spec();
      if (!spec || !boundToMesh(spec)) continue;
      std::vector<std::string> exportTo = stringList(spec->get("exportTo"));
      std::set<std::string> scopes;
      bool toAll = exportTo.empty();
      for (const std::string& e : exportTo) toAll = toAll || e == kAllNamespaces;
      if (toAll) {
        scopes.insert(std::string(kAllNamespaces));
      } else {
        for (const std::string& e : exportTo) scopes.insert(e == "." ? std::string(vs->namespace_()) : e);
      }
      for (const std::string& scope : scopes)
        for (const std::string& h : stringList(spec->get("hosts")))
          byHost[{scope, istioFqdn(vs->namespace_(), h, domain)}].push_back(vs);
    }

    std::set<const core::Resource*> reported;
    for (const auto& [key, list] : byHost) {
      std::vector<const core::Resource*> conflicting = list;
      if (key.scope != kAllNamespaces) {
        for (const auto& [other, others] : byHost)
          if (other.scope == kAllNamespaces && hostsOverlap(key.fqdn, other.fqdn))
            conflicting.insert(conflicting.end(), others.begin(), others.end());
      }
      if (conflicting.size() < 2) continue;
      std::string names;
      for (const core::Resource* r : conflicting) names += (names.empty() ? "" : ",") + fullName(*r);
      for (const core::Resource* r : conflicting) {
        if (!reported.insert(r).second) continue;
        reporter.report(messageType("ConflictingMeshGatewayVirtualServiceHosts"), *r, {names, key.str()},
                        r->metadata() ? r->metadata()->get("name") : nullptr);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeConflictingMeshGatewayHostsAnalyzer() {
  return std::make_unique<ConflictingMeshGatewayHostsAnalyzer>();
}

}  // namespace mesh::analysis
