// meshnetworks.MeshNetworksAnalyzer (Istio multicluster.MeshNetworksAnalyzer), IST0126: every
// MeshNetworks endpoint `fromRegistry` must name a known service registry: Kubernetes,
// External, Mock, or a remote cluster, i.e. a key of a Secret labelled
// istio/multiCluster=true. Keys under stringData count too, as the API server would have
// moved them into data (istioctl reading files sees only data).
#include <set>

#include "analyzers/analyzer.h"
#include "analyzers/util/workloads.h"
#include "core/loader.h"

namespace mesh::analysis {
namespace {

// The synthetic "MeshNetworks istio-system/meshnetworks" object messages are reported on:
// the snapshot's when it provides one, else a fixed stand-in (it has no file to point at).
const core::Resource& meshNetworksObject(const Snapshot& snapshot) {
  if (const core::Resource* r = snapshot.find(kinds::MeshNetworks, "istio-system", "meshnetworks"))
    return *r;
  static const core::Resource kStandIn = [] {
    core::LoadResult lr = core::loadBuffer("", R"(apiVersion: meshctl.internal/v1
kind: MeshNetworks
metadata: {name: meshnetworks, namespace: istio-system}
)",
                                           {});
    return lr.resources.at(0);
  }();
  return kStandIn;
}

class MeshNetworksAnalyzer final : public Analyzer {
 public:
  const AnalyzerInfo& info() const override {
    static const AnalyzerInfo kInfo{"meshnetworks.MeshNetworksAnalyzer",
                                    "Check the validity of MeshNetworks in the cluster",
                                    {kinds::MeshNetworks, kinds::Secret}};
    return kInfo;
  }

  void analyze(const Snapshot& snapshot, Reporter& reporter) const override {
    std::set<std::string, std::less<>> registries = {"Mock", "Kubernetes", "External"};
    for (const core::Resource* secret : snapshot.all(kinds::Secret)) {
      if (secret->label("istio/multiCluster") != "true") continue;
      for (std::string_view field : {"data", "stringData"})
        if (const core::Node* data = secret->root().get(field))
          for (const core::MapEntry& e : data->entries()) registries.emplace(e.key->text());
    }

    const nlohmann::json* networks = jsonAt(snapshot.meshNetworks(), {"networks"});
    if (!networks || !networks->is_object()) return;
    for (const auto& [network, spec] : networks->items()) {
      const nlohmann::json* endpoints = jsonAt(spec, {"endpoints"});
      if (!endpoints || !endpoints->is_array()) continue;
      for (const auto& endpoint : *endpoints) {
        const nlohmann::json* from = jsonAt(endpoint, {"fromRegistry"});
        if (!from) continue;
        std::string registry = from->is_string() ? from->get<std::string>() : from->dump();
        if (!registries.contains(registry))
          reporter.report(messageType("UnknownMeshNetworksServiceRegistry"),
                          meshNetworksObject(snapshot), {registry, network});
      }
    }
  }
};

}  // namespace

std::unique_ptr<Analyzer> makeMeshNetworksAnalyzer() {
  return std::make_unique<MeshNetworksAnalyzer>();
}

}  // namespace mesh::analysis
