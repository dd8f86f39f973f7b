// Differences that make a Service inconsistent across clusters: headless in some and not in
// others (all clusters are then named), a different type, or different ports (compared as
// sets sorted by port name, every field significant). The message goes on the first
// cluster's copy; clusters and reasons are listed sorted (Istio's order is map order).
#include "analyzers/multicluster/service_analyzer.h"

#include <algorithm>
#include <map>
#include <set>

#include "analyzers/util/workloads.h"
#include "core/yaml/convert.h"

namespace mesh::analysis {
namespace {

using Copies = std::map<std::string, const core::Resource*>;  // cluster → Service

bool headless(const core::Resource& svc) { return scalarAt(svc.spec(), "clusterIP") == "None"; }

// The ServicePort fields Kubernetes defines, as JSON, sorted by name.
std::vector<nlohmann::json> portsOf(const core::Resource& svc) {
  std::vector<nlohmann::json> out;
  const core::Node* ports = svc.spec() ? svc.spec()->get("ports") : nullptr;
  if (!ports) return out;
  for (const core::Node* p : ports->items()) {
    nlohmann::json j = nlohmann::json::object();
    for (std::string_view key :
         {"name", "protocol", "appProtocol", "port", "targetPort", "nodePort"})
      if (const core::Node* v = p->get(key); v && !v->isNull())
        j[std::string(key)] = core::toJson(*v);
    out.push_back(std::move(j));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.value("name", std::string()) < b.value("name", std::string());
  });
  return out;
}

void compare(const Copies& copies, Reporter& reporter) {
  const auto& [firstCluster, first] = *copies.begin();
  std::set<std::string> clusters, reasons;
  bool mixedHeadless = false;
  for (const auto& [cluster, svc] : copies) {
    if (!mixedHeadless && headless(*first) != headless(*svc)) {
      mixedHeadless = true;
      for (const auto& [c, _] : copies) clusters.insert(c);
      reasons.insert("service has mixed mode like headless and clusterIP");
    }
    if (scalarAt(first->spec(), "type") != scalarAt(svc->spec(), "type")) {
      clusters.insert(cluster);
      reasons.insert("service type is inconsistent");
    }
    if (portsOf(*first) != portsOf(*svc)) {
      clusters.insert(cluster);
      reasons.insert("service ports are inconsistent");
    }
  }
  if (clusters.empty()) return;
  clusters.insert(firstCluster);
  std::string errors;
  for (const std::string& r : reasons) errors += (errors.empty() ? "" : "; ") + r;
  reporter.report(messageType("MultiClusterInconsistentService"), *first,
                  {std::string(first->name()), std::string(first->namespace_()),
                   std::vector<std::string>(clusters.begin(), clusters.end()), errors});
}

class MultiClusterServiceAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{
        "services.MultiClusterServiceAnalyzer",
        "Check the validity of services in the multi-cluster environment",
        {kinds::Service}};
    return kInfo;
  }

  // One snapshot holds no cluster identity for its Services: nothing to compare.
  void analyze(const Snapshot&, Reporter&) const override {}
};

}  // namespace

void analyzeMultiClusterServices(std::span<const ClusterSnapshot> clusters, Reporter& reporter) {
  std::map<std::pair<std::string, std::string>, Copies> services;  // (namespace, name) → copies
  for (const ClusterSnapshot& c : clusters) {
    if (c.cluster.empty() || !c.snapshot) continue;
    for (const core::Resource* svc : c.snapshot->all(kinds::Service))
      services[{std::string(svc->namespace_()), std::string(svc->name())}][c.cluster] = svc;
  }
  for (const auto& [_, copies] : services)
    if (copies.size() > 1) compare(copies, reporter);
}

std::unique_ptr<Analyzer> makeMultiClusterServiceAnalyzer() {
  return std::make_unique<MultiClusterServiceAnalyzer>();
}

}  // namespace mesh::analysis
