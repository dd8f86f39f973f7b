#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("meshnetworks.MeshNetworksAnalyzer: remote-cluster secrets name registries") {
  nlohmann::json networks = nlohmann::json::parse(R"({"networks": {
    "net1": {"endpoints": [{"fromRegistry": "Kubernetes"}, {"fromCidr": "10.0.0.0/8"}]},
    "net2": {"endpoints": [{"fromRegistry": "remote-a"}, {"fromRegistry": "remote-b"}]},
    "net3": {"endpoints": [{"fromRegistry": "unlabelled"}]}}})");
  auto snapshot = snapshotOf(R"(
apiVersion: v1
kind: Secret
metadata: {name: istio-remote-secret-a, namespace: istio-system, labels: {istio/multiCluster: "true"}}
data: {remote-a: YQ==}
---
apiVersion: v1
kind: Secret
metadata: {name: istio-remote-secret-b, namespace: istio-system, labels: {istio/multiCluster: "true"}}
stringData: {remote-b: b}
---
apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: istio-system}
data: {unlabelled: YQ==}
)",
                             defaultMeshConfig(), networks);
  RunOptions options;
  options.analyzers = {"meshnetworks.MeshNetworksAnalyzer"};
  auto messages = runAnalyzers(*snapshot, options).messages;
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].origin == "MeshNetworks istio-system/meshnetworks");
  CHECK(messages[0].text() == "Unknown service registry unlabelled in network net3");
}
