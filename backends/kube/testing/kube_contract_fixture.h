// The KubeStore fixture of the shared ConfigStore contract (backends/store_contract_test.cpp):
// a fresh test API server per test case, with the VirtualService and Sentinel CRDs installed.
// Two Kubernetes facts the suite does not know are bridged here, not bent in the store: a
// namespace must exist before objects go in it (the fixture creates "prod", which the suite
// uses), and a cluster starts with namespaces of its own (hidden by a field selector).
// Test code only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/kube/kube_object.h"
#include "backends/kube/kube_store.h"
#include "backends/kube/testing/test_api_server.h"

namespace mesh::backends::kube::testing {

struct KubeContractFixture {
  std::unique_ptr<TestApiServer> server = std::make_unique<TestApiServer>();
  std::shared_ptr<KubeClient> client = server->client();

  KubeContractFixture() {
    installCrd(*client, virtualServiceCrd());
    installCrd(*client, crd("zz.test", "Sentinel", "sentinels", {"v1"}));
    applyOutside(backends::testing::parseOne(backends::testing::nsObject("prod")));
  }

  std::unique_ptr<core::ConfigStore> open(const std::vector<std::string>& seed = {},
                                          bool readOnly = false) {
    KubeStoreOptions options;
    options.kinds = {
        {"networking.istio.io", "VirtualService"}, {"", "ConfigMap"}, {"zz.test", "Sentinel"}};
    options.readOnly = readOnly;
    options.fieldSelector = "metadata.name!=default,metadata.name!=kube-system";
    options.writeTimeout = std::chrono::seconds(5);
    for (const auto& yaml : seed)
      for (const auto& r : backends::testing::parseAll(yaml)) {
        if (r.kind() == "Namespace" && options.kinds.size() == 3)
          options.kinds.push_back({"", "Namespace"});
        applyOutside(r);
      }
    auto store = KubeStore::open(client, options);
    REQUIRE_MESSAGE(store, testing::why(store));
    return std::move(*store);
  }

  // Written with another client, behind the store's back.
  void sentinel(core::ConfigStore&, std::string_view name) {
    applyOutside(backends::testing::parseOne(backends::testing::sentinelObject(name)));
  }

  void applyOutside(const core::Resource& r) {
    auto api = client->discovery().resolve({std::string(r.group()), std::string(r.kind())});
    REQUIRE_MESSAGE(api, testing::why(api));
    nlohmann::json body = resourceToJson(r);
    if (api->namespaced) body["metadata"]["namespace"] = std::string(r.namespace_());
    auto applied = client->apply(*api, body,
                                 {.fieldManager = "contract-test", .force = true, .dryRun = false});
    REQUIRE_MESSAGE(applied, testing::why(applied));
  }
};

}  // namespace mesh::backends::kube::testing
