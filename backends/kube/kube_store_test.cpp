// KubeStore beyond the shared contract (which runs against it too, see CMakeLists.txt): kinds
// the cluster does not serve or will not let us list, CRDs installed later, changes made by
// others, relists after compaction, finalizers, and what is kept of an object.
#include "backends/kube/kube_store.h"

#include <doctest/doctest.h>

#include "backends/kube/testing/test_api_server.h"
#include "core/yaml/convert.h"

namespace mesh::backends::kube {
namespace {

using backends::testing::EventLog;
using backends::testing::parseOne;
using nlohmann::json;
using testing::TestApiServer;

const core::GroupKind kConfigMap{"", "ConfigMap"};
const core::GroupKind kVirtualService{"networking.istio.io", "VirtualService"};

std::unique_ptr<KubeStore> openStore(std::shared_ptr<KubeClient> client, KubeStoreOptions options) {
  auto store = KubeStore::open(std::move(client), std::move(options));
  REQUIRE_MESSAGE(store, testing::why(store));
  return std::move(*store);
}

json configMap(std::string_view name, std::string_view value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"data", {{"k", value}}}};
}

// data.k, or data.key as backends/testing's configMap() writes it.
std::string dataOf(const core::Resource& r) {
  const core::Node* data = r.root().get("data");
  const core::Node* k = data ? data->get("k") : nullptr;
  if (!k && data) k = data->get("key");
  return k ? std::string(k->text()) : std::string();
}

TEST_CASE(
    "kube store: kinds the server does not serve are skipped and named; a CRD installed later is "
    "used") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto client = server.client();
  auto store = openStore(client, {.kinds = {kConfigMap, kVirtualService}});
  CHECK(store->describe() ==
        fmt::format("kubernetes {} (context test); not served: VirtualService.networking.istio.io",
                    server.url()));
  auto kinds = store->kinds();
  REQUIRE(kinds.size() == 2);
  CHECK(kinds[0].state == KubeStore::KindState::Synced);
  CHECK(kinds[1].state == KubeStore::KindState::NotServed);
  CHECK(kinds[1].detail.find("no API group \"networking.istio.io\"") != std::string::npos);
  CHECK(store->list(core::Filter{.kind = kVirtualService})->empty());
  auto absent = store->get(backends::testing::vsKey("reviews"));
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code == ErrorCode::NotFound);

  auto refused = store->apply(parseOne(backends::testing::virtualService("reviews")));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::NotFound);
  CHECK(refused.error().message.find("VirtualService.networking.istio.io is not served") !=
        std::string::npos);

  testing::installCrd(*client, testing::virtualServiceCrd());
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  auto applied = store->apply(parseOne(backends::testing::virtualService("reviews")));
  REQUIRE_MESSAGE(applied, testing::why(applied));
  CHECK(applied->key() == backends::testing::vsKey("reviews"));
  REQUIRE(log.waitFor(1));
  CHECK(log.summary() ==
        std::vector<std::string>{"Added VirtualService.networking.istio.io default/reviews"});
  CHECK(store->describe() == fmt::format("kubernetes {} (context test)", server.url()));
  // A manifest in an older served version is written in that version; the store keeps the
  // version it watches.
  auto older =
      store->apply(parseOne("apiVersion: networking.istio.io/v1beta1\nkind: "
                            "VirtualService\nmetadata: {name: old, namespace: default}\n"
                            "spec: {hosts: [old]}\n"));
  REQUIRE_MESSAGE(older, testing::why(older));
  CHECK(older->resource.apiVersion() == "networking.istio.io/v1");
}

TEST_CASE("kube store: what is kept of an object; changes made by others are watched") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto client = server.client();
  ApiResource cm = *client->discovery().resolve(kConfigMap);
  REQUIRE(client->apply(cm, configMap("outside", "1"),
                        {.fieldManager = "other", .force = false, .dryRun = false}));
  auto store = openStore(client, {.kinds = {kConfigMap, {"", "Namespace"}}});
  auto got = store->get(backends::testing::cmKey("outside"));
  REQUIRE(got);
  CHECK(got->resource.file().empty());
  CHECK(dataOf(got->resource) == "1");
  const core::Node* meta = got->resource.metadata();
  REQUIRE(meta);
  for (const char* dropped : {"managedFields", "resourceVersion", "uid", "creationTimestamp"})
    CHECK_MESSAGE(meta->get(dropped) == nullptr, dropped);
  auto ns = store->get({"", "Namespace", "", "default"});
  REQUIRE(ns);
  const core::Node* status = ns->resource.root().get("status");
  REQUIRE(status);  // status is kept: meshd needs pods' IPs
  CHECK(status->get("phase")->text() == "Active");

  EventLog log;
  auto sub =
      store->watch(log.callback(),
                   {.filter = {.kind = kConfigMap, .namespace_ = std::nullopt}, .replay = false});
  REQUIRE(sub);
  REQUIRE(client->apply(cm, configMap("outside", "2"),
                        {.fieldManager = "other", .force = false, .dryRun = false}));
  REQUIRE(client->apply(cm, configMap("second", "x"),
                        {.fieldManager = "other", .force = false, .dryRun = false}));
  REQUIRE(client->remove(cm, "default", "outside"));
  REQUIRE(log.waitFor(3));
  CHECK(log.summary() == std::vector<std::string>{"Updated ConfigMap default/outside",
                                                  "Added ConfigMap default/second",
                                                  "Deleted ConfigMap default/outside"});
  auto events = log.events();
  CHECK(dataOf(events[0].item.resource) == "2");
  CHECK(dataOf(events[2].item.resource) == "2");
}

TEST_CASE("kube store: after compaction the relist publishes only real differences") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto client = server.client();
  ApiResource cm = *client->discovery().resolve(kConfigMap);
  KubeStoreOptions options{.kinds = {kConfigMap}};
  options.reflector.backoffBase = std::chrono::milliseconds(20);
  auto store = openStore(client, options);
  REQUIRE(store->apply(parseOne(backends::testing::configMap("stays"))));
  REQUIRE(store->apply(parseOne(backends::testing::configMap("goes"))));
  uint64_t before = store->revision();
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  // The relist is slowed down; meanwhile "goes" is deleted, so only the list can tell.
  server.fault({{"verb", "list"}, {"resource", "configmaps"}, {"latency_ms", 300}, {"count", 1}});
  server.compact();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(client->remove(cm, "default", "goes"));
  REQUIRE(log.waitFor(1));
  REQUIRE(store->apply(parseOne(backends::testing::configMap("after", "default", "2"))));
  REQUIRE(log.waitFor(2));
  CHECK(log.summary() == std::vector<std::string>{"Deleted ConfigMap default/goes",
                                                  "Added ConfigMap default/after"});
  CHECK(store->revision() == before + 2);
  CHECK(store->get(backends::testing::cmKey("stays")));
}

TEST_CASE(
    "kube store: a kind it may not list is reported, the others work; an unreachable cluster fails "
    "to open") {
  MESH_REQUIRE_API_SERVER();
  {
    TestApiServer server({.tls = true,
                          .clientCa = false,
                          .tokens = {"test-token"},
                          .forbid = {"list:secrets"},
                          .extraArgs = {}});
    KubeStoreOptions options{.kinds = {kConfigMap, {"", "Secret"}}};
    options.reflector.backoffBase = std::chrono::milliseconds(20);
    auto store = openStore(server.client(), options);
    CHECK(store->describe().find("; failing: Secret (secrets is forbidden: User "
                                 "\"kubernetes-admin\" cannot list resource \"secrets\"") !=
          std::string::npos);
    CHECK(store->describe().find("the RBAC rule missing is: apiGroups [\"\"], resources "
                                 "[\"secrets\"], verbs [\"list\"]") != std::string::npos);
    REQUIRE(store->apply(parseOne(backends::testing::configMap("works"))));
    auto secret = store->get({"", "Secret", "default", "s"});
    REQUIRE_FALSE(secret);
    CHECK(secret.error().message.find("cannot list Secret: ") == 0);
  }
  backends::testing::TempDir dir;
  backends::testing::writeFile(dir / "config", R"(current-context: gone
contexts: [{name: gone, context: {cluster: gone}}]
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
)");
  KubeConfigOptions config;
  config.explicitPath = (dir / "config").string();
  auto store = KubeStore::connect(config, {.kinds = {kConfigMap}});
  REQUIRE_FALSE(store);
  CHECK(store.error().message == "cannot reach https://127.0.0.1:1: connection refused");
}

TEST_CASE("kube store: remove waits for finalizers, and says which ones hold the object") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto client = server.client();
  ApiResource cm = *client->discovery().resolve(kConfigMap);
  KubeStoreOptions options{.kinds = {kConfigMap}};
  options.writeTimeout = std::chrono::milliseconds(500);
  auto store = openStore(client, options);
  json held = configMap("held", "1");
  held["metadata"]["finalizers"] = json::array({"example.com/cleanup"});
  REQUIRE(client->apply(cm, held, {.fieldManager = "other", .force = false, .dryRun = false}));
  REQUIRE(backends::testing::eventually(
      [&] { return store->get(backends::testing::cmKey("held")).has_value(); }));
  auto removed = store->remove(backends::testing::cmKey("held"));
  REQUIRE_FALSE(removed);
  CHECK(removed.error().message ==
        "ConfigMap default/held is being deleted, but finalizers still hold it after 500ms: "
        "example.com/cleanup");
  held["metadata"]["finalizers"] = json::array();
  REQUIRE(client->apply(cm, held, {.fieldManager = "other", .force = false, .dryRun = false}));
  REQUIRE(backends::testing::eventually(
      [&] { return !store->get(backends::testing::cmKey("held")).has_value(); }));
}

TEST_CASE("kube store: many updates of one object keep memory packed and values right") {
  MESH_REQUIRE_API_SERVER();
  TestApiServer server;
  auto store = openStore(server.client(), {.kinds = {kConfigMap}});
  for (int i = 0; i < 150; ++i)
    REQUIRE(
        store->apply(parseOne(backends::testing::configMap("busy", "default", std::to_string(i)))));
  auto got = store->get(backends::testing::cmKey("busy"));
  REQUIRE(got);
  CHECK_MESSAGE(dataOf(got->resource) == "149", core::toYaml(got->resource.root()));
  CHECK(got->revision == store->revision());
}

}  // namespace
}  // namespace mesh::backends::kube
