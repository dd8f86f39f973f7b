// virtualservice.ConflictingMeshGatewayHostsAnalyzer (Istio virtualservice/
// conflictingmeshgatewayhosts.go): VirtualServices bound to the "mesh" gateway (explicitly,
// or by naming no gateway) that define the same host in the same exportTo scope (IST0109).
// A host exported to particular namespaces also conflicts with any host exported to all
// namespaces that it overlaps, wildcards included.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "analyzers/analyzer.h"
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

using HostIndex = std::map<ScopedHost, std::vector<const core::Resource*>>;

// The hosts exported to all namespaces, so that those overlapping a host (hostsOverlap) are
// found by lookups rather than by comparing every pair.
class ExportedToAll {
 public:
  explicit ExportedToAll(const HostIndex& byHost) {
    for (const auto& [key, list] : byHost) {
      if (key.scope != kAllNamespaces) continue;
      byFqdn_.emplace(key.fqdn, &list);
      reversed_.emplace_back(std::string(key.fqdn.rbegin(), key.fqdn.rend()), key.fqdn);
    }
    std::sort(reversed_.begin(), reversed_.end());
  }

  // The VirtualServices of the all-namespaces hosts overlapping `host`, host by host in order.
  std::vector<const core::Resource*> overlapping(std::string_view host) const {
    std::set<std::string_view> hosts;
    auto add = [&](std::string_view h) {
      if (auto it = byFqdn_.find(h); it != byFqdn_.end()) hosts.insert(it->first);
    };
    add(host);
    // "*x" overlaps every host ending in x.
    for (size_t p = 0; p <= host.size(); ++p) add("*" + std::string(host.substr(p)));
    if (host.starts_with('*')) {
      std::string suffix(host.rbegin(), host.rend() - 1);  // host without its '*', reversed
      for (auto it = std::lower_bound(reversed_.begin(), reversed_.end(), std::pair(suffix, std::string_view()));
           it != reversed_.end() && it->first.starts_with(suffix); ++it)
        hosts.insert(it->second);
    }
    std::vector<const core::Resource*> out;
    for (std::string_view h : hosts) {
      const auto& list = *byFqdn_.at(h);
      out.insert(out.end(), list.begin(), list.end());
    }
    return out;
  }

 private:
  std::map<std::string_view, const std::vector<const core::Resource*>*, std::less<>> byFqdn_;
  std::vector<std::pair<std::string, std::string_view>> reversed_;  // (reversed fqdn, fqdn)
};

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
    HostIndex byHost;
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

    std::optional<ExportedToAll> exportedToAll;  // built when a host needs it
    std::set<const core::Resource*> reported;
    for (const auto& [key, list] : byHost) {
      std::vector<const core::Resource*> conflicting = list;
      if (key.scope != kAllNamespaces) {
        if (!exportedToAll) exportedToAll.emplace(byHost);
        std::vector<const core::Resource*> others = exportedToAll->overlapping(key.fqdn);
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
