// MultiClusterStore over in-memory members: the primary mirrored before open() returns, remote
// clusters added, changed, replaced and removed as events with one strictly increasing
// revision sequence, and objects that share a key across clusters listed primary first.
#include "backends/kube/multi_cluster_store.h"

#include <doctest/doctest.h>

#include "backends/memory/memory_store.h"
#include "backends/testing/store_test_support.h"

namespace mesh::backends::kube {
namespace {

using backends::testing::EventLog;
using backends::testing::parseOne;

std::string service(std::string_view name, int port) {
  return fmt::format(
      "apiVersion: v1\nkind: Service\nmetadata: {{name: {}, namespace: shop}}\nspec:\n  ports: "
      "[{{port: {}}}]\n",
      name, port);
}

core::ResourceKey serviceKey(std::string name) { return {"", "Service", "shop", std::move(name)}; }

int portOf(const core::Resource& r) {
  for (const core::Node* p : r.spec()->get("ports")->items())
    return static_cast<int>(*p->get("port")->asInt());
  return 0;
}

std::unique_ptr<MultiClusterStore> openStore(std::shared_ptr<core::ConfigStore> primary) {
  auto store = MultiClusterStore::open(std::move(primary), "Kubernetes");
  REQUIRE(store);
  return std::move(*store);
}

TEST_CASE(
    "multi-cluster store: remote clusters come and go as events; shared keys list primary first") {
  auto primary =
      std::make_shared<MemoryStore>(std::vector<core::Resource>{parseOne(service("ledger", 80))});
  auto store = openStore(primary);
  REQUIRE(store->list()->size() == 1);  // mirrored before open() returned
  CHECK(store->capabilities().writable == false);
  CHECK_FALSE(store->apply(parseOne(service("x", 1))));

  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  auto remote = std::make_shared<MemoryStore>(std::vector<core::Resource>{
      parseOne(service("ledger", 81)), parseOne(service("payments-api", 8080))});
  REQUIRE(store->setCluster("east", remote));
  REQUIRE(log.waitFor(2));
  CHECK(log.summary() ==
        std::vector<std::string>{"Added Service shop/ledger", "Added Service shop/payments-api"});
  auto listed = store->list();
  REQUIRE(listed->size() == 3);
  CHECK(portOf((*listed)[0].resource) == 80);  // the primary's ledger first
  CHECK(portOf((*listed)[1].resource) == 81);
  CHECK(portOf(store->get(serviceKey("ledger"))->resource) == 80);
  CHECK(store->get(serviceKey("payments-api")));
  CHECK(store->clusters() == std::vector<std::string>{"east"});
  CHECK(store->describe() == "memory; remote clusters: east");

  // Changes in either store arrive in order, under the composite's revisions.
  REQUIRE(remote->apply(parseOne(service("payments-api", 9090))));
  REQUIRE(log.waitFor(3));  // each store has its own dispatcher: wait before the next
  REQUIRE(primary->apply(parseOne(service("orders", 80))));
  REQUIRE(log.waitFor(4));
  REQUIRE(remote->remove(serviceKey("ledger")));
  REQUIRE(log.waitFor(5));
  CHECK(portOf(store->get(serviceKey("payments-api"))->resource) == 9090);
  CHECK(store->list()->size() == 3);

  // Replacing a cluster's store (new credentials, say): only differences become events.
  auto replacement = std::make_shared<MemoryStore>(std::vector<core::Resource>{
      parseOne(service("audit", 80)), parseOne(service("payments-api", 9090))});
  REQUIRE(store->setCluster("east", replacement));
  REQUIRE(log.waitFor(6));
  CHECK(store->get(serviceKey("payments-api")));
  CHECK(store->get(serviceKey("audit")));
  REQUIRE(remote->apply(parseOne(service("late", 1))));  // a replaced store's changes are not seen
  REQUIRE(replacement->apply(parseOne(service("audit", 81))));
  REQUIRE(log.waitFor(7));

  CHECK(store->removeCluster("east"));
  CHECK_FALSE(store->removeCluster("east"));
  REQUIRE(log.waitFor(9));
  CHECK(store->list()->size() == 2);                           // the primary's ledger and orders
  REQUIRE(replacement->apply(parseOne(service("later", 1))));  // nor a removed one's
  REQUIRE(primary->apply(parseOne(service("sentinel", 1))));
  REQUIRE(log.waitFor(10));
  auto events = log.events();
  CHECK(events.back().item.key() == serviceKey("sentinel"));
  std::vector<std::string> summary = log.summary();
  CHECK(summary == std::vector<std::string>{
                       "Added Service shop/ledger", "Added Service shop/payments-api",
                       "Updated Service shop/payments-api", "Added Service shop/orders",
                       "Deleted Service shop/ledger", "Added Service shop/audit",
                       "Updated Service shop/audit", "Deleted Service shop/audit",
                       "Deleted Service shop/payments-api", "Added Service shop/sentinel"});
  for (size_t i = 1; i < events.size(); ++i)
    CHECK(events[i].item.revision > events[i - 1].item.revision);
  CHECK(store->revision() == events.back().item.revision);
  // The primary's ledger survived the remote one's deletion.
  CHECK(portOf(store->get(serviceKey("ledger"))->resource) == 80);
}

TEST_CASE(
    "multi-cluster store: a remote cluster may not take the primary's name; replay lists every "
    "cluster") {
  auto store = openStore(
      std::make_shared<MemoryStore>(std::vector<core::Resource>{parseOne(service("a", 1))}));
  auto remote =
      std::make_shared<MemoryStore>(std::vector<core::Resource>{parseOne(service("a", 2))});
  auto refused = store->setCluster("Kubernetes", remote);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::Usage);
  CHECK_FALSE(store->setCluster("", remote));
  REQUIRE(store->setCluster("west", remote));
  EventLog log;
  auto sub = store->watch(log.callback(), {.filter = {}, .replay = true});
  REQUIRE(sub);
  REQUIRE(log.waitFor(2));
  CHECK(log.summary() == std::vector<std::string>{"Added Service shop/a", "Added Service shop/a"});
  CHECK(portOf(log.events()[0].item.resource) == 1);
  CHECK(store->list(core::Filter{.kind = core::GroupKind{"", "Service"}, .namespace_ = "shop"})
            ->size() == 2);
  CHECK(store->list(core::Filter{.kind = core::GroupKind{"", "Pod"}, .namespace_ = {}})->empty());
}

}  // namespace
}  // namespace mesh::backends::kube
