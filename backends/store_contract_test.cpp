// The ConfigStore contract, run against every backend (Kuma's shared store suite): each
// TEST_CASE_TEMPLATE below runs once per fixture. A new backend adds a fixture here.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "backends/file/directory_store.h"
#include "backends/memory/memory_store.h"
#include "backends/testing/store_test_support.h"
#include "core/yaml/convert.h"

namespace mesh::backends {
namespace {

using namespace testing;
using core::EventType;
using core::ResourceKey;

struct MemoryFixture {
  std::unique_ptr<core::ConfigStore> open(const std::vector<std::string>& seed = {},
                                          bool readOnly = false) {
    std::vector<core::Resource> objects;
    for (const auto& yaml : seed)
      for (auto& r : parseAll(yaml)) objects.push_back(std::move(r));
    return std::make_unique<MemoryStore>(std::move(objects),
                                         MemoryStore::Options{.readOnly = readOnly});
  }
  // A change made from outside whose event proves that every earlier change was delivered.
  void sentinel(core::ConfigStore& store, std::string_view name) {
    REQUIRE(store.apply(parseOne(sentinelObject(name))));
  }
};

struct DirectoryFixture {
  TempDir dir;
  int files = 0;
  std::unique_ptr<core::ConfigStore> open(const std::vector<std::string>& seed = {},
                                          bool readOnly = false) {
    for (const auto& yaml : seed) writeFile(dir / fmt::format("seed-{}.yaml", files++), yaml);
    DirectoryStore::Options options;
    options.readOnly = readOnly;
    auto store = DirectoryStore::open(dir.path(), options);
    REQUIRE(store);
    return std::move(*store);
  }
  // Written behind the store's back: its inotify events queue after those of every earlier
  // write, so once it is seen, any echo of the store's own writes would have been seen too.
  void sentinel(core::ConfigStore&, std::string_view name) {
    writeFile(dir / fmt::format("zz-{}.yaml", name), sentinelObject(name));
  }
};

#define STORE_FIXTURES MemoryFixture, DirectoryFixture

TEST_CASE_TEMPLATE("contract: an empty store lists nothing and finds nothing", F, STORE_FIXTURES) {
  F f;
  auto store = f.open();
  auto all = store->list();
  REQUIRE(all);
  CHECK(all->empty());
  CHECK(store->revision() == 0);
  CHECK(store->capabilities().writable);
  auto missing = store->get(vsKey("reviews"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::NotFound);
  CHECK(missing.error().message == "VirtualService.networking.istio.io default/reviews not found");
}

TEST_CASE_TEMPLATE("contract: apply creates, get returns it, list sorts by key", F,
                   STORE_FIXTURES) {
  F f;
  auto store = f.open();
  auto created = store->apply(parseOne(virtualService("reviews", "default")));
  REQUIRE(created);
  CHECK(created->revision > 0);
  CHECK(std::string(created->resource.name()) == "reviews");
  REQUIRE(store->apply(parseOne(configMap("zeta", "default"))));
  REQUIRE(store->apply(parseOne(virtualService("alpha", "prod"))));
  REQUIRE(store->apply(parseOne(virtualService("alpha", "default"))));
  REQUIRE(store->apply(parseOne(nsObject("prod"))));

  auto got = store->get(vsKey("reviews"));
  REQUIRE(got);
  CHECK(got->revision == created->revision);
  CHECK(core::sameValue(got->resource.root(), parseOne(virtualService("reviews")).root()));

  auto all = store->list();
  REQUIRE(all);
  std::vector<std::string> keys;
  for (const auto& s : *all) keys.push_back(s.key().display());
  // group "" sorts first; then kind, namespace, name.
  CHECK(keys == std::vector<std::string>{"ConfigMap default/zeta", "Namespace prod",
                                         "VirtualService.networking.istio.io default/alpha",
                                         "VirtualService.networking.istio.io default/reviews",
                                         "VirtualService.networking.istio.io prod/alpha"});
  CHECK(store->revision() == 5);
}

TEST_CASE_TEMPLATE("contract: list filters by kind and by namespace", F, STORE_FIXTURES) {
  F f;
  auto store = f.open({virtualService("a", "default") + "---\n" + virtualService("b", "prod") +
                       "---\n" + configMap("c", "prod") + "---\n" + nsObject("prod")});
  auto names = [&](const core::Filter& filter) {
    std::vector<std::string> out;
    auto listed = store->list(filter);
    REQUIRE(listed);
    for (const auto& s : *listed) out.push_back(s.key().display());
    return out;
  };
  core::GroupKind vs{"networking.istio.io", "VirtualService"};
  CHECK(names({.kind = vs}) ==
        std::vector<std::string>{"VirtualService.networking.istio.io default/a",
                                 "VirtualService.networking.istio.io prod/b"});
  CHECK(names({.namespace_ = "prod"}) ==
        std::vector<std::string>{"ConfigMap prod/c", "VirtualService.networking.istio.io prod/b"});
  CHECK(names({.kind = vs, .namespace_ = "prod"}) ==
        std::vector<std::string>{"VirtualService.networking.istio.io prod/b"});
  CHECK(names({.namespace_ = ""}) == std::vector<std::string>{"Namespace prod"});
  CHECK(names({.kind = core::GroupKind{"", "VirtualService"}})
            .empty());  // the group is part of the kind
  CHECK(names({}).size() == 4);
}

TEST_CASE_TEMPLATE("contract: apply replaces, and applying the same content is a no-op", F,
                   STORE_FIXTURES) {
  F f;
  auto store = f.open();
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  auto v1 = store->apply(parseOne(virtualService("reviews", "default", "v1")));
  REQUIRE(v1);
  auto v2 = store->apply(parseOne(virtualService("reviews", "default", "v2")));
  REQUIRE(v2);
  CHECK(v2->revision > v1->revision);
  CHECK(firstHost(store->get(vsKey("reviews"))->resource) == "v2");

  auto same = store->apply(parseOne(virtualService("reviews", "default", "v2")));
  REQUIRE(same);
  CHECK(same->revision == v2->revision);
  CHECK(store->revision() == v2->revision);

  f.sentinel(*store, "sentinel");
  REQUIRE(log.waitForKey(sentinelKey("sentinel")));
  CHECK(log.summary() ==
        std::vector<std::string>{"Added VirtualService.networking.istio.io default/reviews",
                                 "Updated VirtualService.networking.istio.io default/reviews",
                                 "Added Sentinel.zz.test default/sentinel"});
  auto events = log.events();
  CHECK(events[0].item.revision == v1->revision);
  CHECK(events[1].item.revision == v2->revision);
}

TEST_CASE_TEMPLATE("contract: writes with a revision precondition", F, STORE_FIXTURES) {
  F f;
  auto store = f.open();
  auto created = store->apply(parseOne(virtualService("reviews")), {.ifRevision = 0});
  REQUIRE(created);
  auto again = store->apply(parseOne(virtualService("reviews", "default", "x")), {.ifRevision = 0});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::Conflict);
  auto stale = store->apply(parseOne(virtualService("reviews", "default", "x")),
                            {.ifRevision = created->revision + 7});
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == ErrorCode::Conflict);
  auto updated = store->apply(parseOne(virtualService("reviews", "default", "x")),
                              {.ifRevision = created->revision});
  REQUIRE(updated);
  auto staleRemove = store->remove(vsKey("reviews"), {.ifRevision = created->revision});
  REQUIRE_FALSE(staleRemove);
  CHECK(staleRemove.error().code == ErrorCode::Conflict);
  CHECK(store->remove(vsKey("reviews"), {.ifRevision = updated->revision}));
  auto missing = store->apply(parseOne(virtualService("other")), {.ifRevision = 3});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::Conflict);
}

TEST_CASE_TEMPLATE("contract: apply checks the object's identity", F, STORE_FIXTURES) {
  F f;
  auto store = f.open();
  auto bad = [&](std::string_view yaml) {
    core::ParsedFile parsed = core::parseYaml("bad.yaml", yaml);
    REQUIRE(parsed.documents.size() == 1);
    core::Resource r(parsed.tree, parsed.documents[0],
                     core::findKind("networking.istio.io", "VirtualService"), "default");
    auto result = store->apply(r);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::InvalidInput);
    return result.error().message;
  };
  CHECK(bad("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {}\n")
            .find("metadata.name") != std::string::npos);
  CHECK(bad("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ../etc}\n")
            .find("not a valid name") != std::string::npos);
  CHECK(bad("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: Reviews}\n")
            .find("not a valid name") != std::string::npos);
  CHECK(bad("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a, "
            "namespace: x/y}\n")
            .find("not a valid namespace") != std::string::npos);
  CHECK(bad("kind: VirtualService\nmetadata: {name: a}\n").find("apiVersion") != std::string::npos);
  CHECK(store->list()->empty());

  auto emptyKey = store->get(ResourceKey{"", "", "default", "x"});
  REQUIRE_FALSE(emptyKey);
  CHECK(emptyKey.error().code == ErrorCode::Usage);
  auto noCallback = store->watch(nullptr);
  REQUIRE_FALSE(noCallback);
  CHECK(noCallback.error().code == ErrorCode::Usage);
}

TEST_CASE_TEMPLATE("contract: remove deletes and reports the last object", F, STORE_FIXTURES) {
  F f;
  auto store = f.open();
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  auto missing = store->remove(vsKey("reviews"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::NotFound);

  auto created = store->apply(parseOne(virtualService("reviews", "default", "last")));
  REQUIRE(created);
  REQUIRE(store->remove(vsKey("reviews")));
  CHECK(store->get(vsKey("reviews")).error().code == ErrorCode::NotFound);
  CHECK(store->list()->empty());
  CHECK(store->revision() > created->revision);

  REQUIRE(log.waitFor(2));
  auto events = log.events();
  CHECK(events[1].type == EventType::Deleted);
  CHECK(events[1].item.key() == vsKey("reviews"));
  CHECK(firstHost(events[1].item.resource) == "last");
  CHECK(events[1].item.revision > created->revision);
  CHECK(events[1].item.revision == store->revision());
}

TEST_CASE_TEMPLATE("contract: watch delivers changes in order with increasing revisions", F,
                   STORE_FIXTURES) {
  F f;
  auto store = f.open();
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  REQUIRE(store->apply(parseOne(virtualService("a"))));
  REQUIRE(store->apply(parseOne(virtualService("b"))));
  REQUIRE(store->apply(parseOne(virtualService("a", "default", "changed"))));
  REQUIRE(store->remove(vsKey("b")));
  REQUIRE(store->apply(parseOne(virtualService("b", "default", "again"))));
  f.sentinel(*store, "sentinel");
  REQUIRE(log.waitForKey(sentinelKey("sentinel")));
  CHECK(log.summary() == std::vector<std::string>{
                             "Added VirtualService.networking.istio.io default/a",
                             "Added VirtualService.networking.istio.io default/b",
                             "Updated VirtualService.networking.istio.io default/a",
                             "Deleted VirtualService.networking.istio.io default/b",
                             "Added VirtualService.networking.istio.io default/b",
                             "Added Sentinel.zz.test default/sentinel",
                         });
  auto events = log.events();
  for (size_t i = 1; i < events.size(); ++i)
    CHECK(events[i].item.revision > events[i - 1].item.revision);
}

TEST_CASE_TEMPLATE("contract: watch with replay and a filter", F, STORE_FIXTURES) {
  F f;
  auto store = f.open({virtualService("a", "prod") + "---\n" + virtualService("b", "default") +
                       "---\n" + configMap("c", "prod") + "---\n" + virtualService("c", "prod")});
  EventLog log;
  core::WatchOptions options;
  options.replay = true;
  options.filter = {.kind = core::GroupKind{"networking.istio.io", "VirtualService"},
                    .namespace_ = "prod"};
  auto sub = store->watch(log.callback(), options);
  REQUIRE(sub);
  REQUIRE(store->apply(parseOne(virtualService("d", "prod"))));
  REQUIRE(store->apply(parseOne(virtualService("e", "default"))));  // filtered out
  REQUIRE(store->apply(parseOne(configMap("f", "prod"))));          // filtered out
  REQUIRE(store->remove(vsKey("a", "prod")));
  REQUIRE(log.waitFor(4));
  CHECK(log.summary() == std::vector<std::string>{
                             "Added VirtualService.networking.istio.io prod/a",
                             "Added VirtualService.networking.istio.io prod/c",
                             "Added VirtualService.networking.istio.io prod/d",
                             "Deleted VirtualService.networking.istio.io prod/a",
                         });
  auto events = log.events();
  CHECK(events[1].item.revision == store->get(vsKey("c", "prod"))->revision);
}

TEST_CASE_TEMPLATE("contract: every subscriber sees every change; a dropped one sees no more", F,
                   STORE_FIXTURES) {
  F f;
  auto store = f.open();
  EventLog first, second;
  auto sub1 = store->watch(first.callback());
  auto sub2 = store->watch(second.callback());
  REQUIRE(sub1);
  REQUIRE(sub2);
  REQUIRE(store->apply(parseOne(virtualService("a"))));
  REQUIRE(first.waitFor(1));
  REQUIRE(second.waitFor(1));
  sub1->reset();  // once reset() returns, the callback does not run again
  CHECK_FALSE(sub1->active());
  REQUIRE(store->apply(parseOne(virtualService("b"))));
  f.sentinel(*store, "sentinel");
  REQUIRE(second.waitForKey(sentinelKey("sentinel")));
  CHECK(first.size() == 1);
  CHECK(second.size() == 3);
}

TEST_CASE_TEMPLATE("contract: a callback may unsubscribe itself and call the store", F,
                   STORE_FIXTURES) {
  F f;
  auto store = f.open();
  EventLog log;
  core::Subscription self;
  std::atomic<int> calls{0};
  std::atomic<size_t> seen{0};
  auto sub = store->watch([&](const core::WatchEvent&) {
    seen = store->list()->size();  // reading the store from a callback does not deadlock
    ++calls;
    self.reset();
  });
  REQUIRE(sub);
  self = std::move(*sub);
  auto other = store->watch(log.callback());
  REQUIRE(other);
  REQUIRE(store->apply(parseOne(virtualService("a"))));
  REQUIRE(store->apply(parseOne(virtualService("b"))));
  f.sentinel(*store, "sentinel");
  REQUIRE(log.waitForKey(sentinelKey("sentinel")));
  CHECK(calls == 1);
  CHECK(seen >= 1);
}

TEST_CASE_TEMPLATE("contract: callbacks never run concurrently, even with concurrent writers", F,
                   STORE_FIXTURES) {
  F f;
  auto store = f.open();
  std::atomic<bool> inside{false};
  std::atomic<bool> overlapped{false};
  EventLog log;
  auto record = log.callback();
  auto sub = store->watch([&](const core::WatchEvent& e) {
    if (inside.exchange(true)) overlapped = true;
    std::this_thread::yield();
    record(e);
    inside = false;
  });
  REQUIRE(sub);
  constexpr int kThreads = 4, kEach = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        if (!store->apply(parseOne(virtualService(fmt::format("w{}-{}", t, i))))) ++failures;
    });
  for (auto& w : writers) w.join();
  CHECK(failures == 0);
  REQUIRE(log.waitFor(kThreads * kEach));
  CHECK_FALSE(overlapped);
  auto events = log.events();
  for (size_t i = 1; i < events.size(); ++i)
    CHECK(events[i].item.revision > events[i - 1].item.revision);
  CHECK(store->list()->size() == size_t{kThreads * kEach});
}

TEST_CASE_TEMPLATE("contract: a read-only store refuses writes with Usage", F, STORE_FIXTURES) {
  F f;
  auto store = f.open({virtualService("a")}, /*readOnly=*/true);
  CHECK_FALSE(store->capabilities().writable);
  CHECK(store->list()->size() == 1);
  auto applied = store->apply(parseOne(virtualService("b")));
  REQUIRE_FALSE(applied);
  CHECK(applied.error().code == ErrorCode::Usage);
  CHECK(applied.error().message.find("read-only") != std::string::npos);
  auto removed = store->remove(vsKey("a"));
  REQUIRE_FALSE(removed);
  CHECK(removed.error().code == ErrorCode::Usage);
  CHECK(store->list()->size() == 1);
}

TEST_CASE_TEMPLATE("contract: a subscription may outlive its store", F, STORE_FIXTURES) {
  F f;
  auto store = f.open();
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  REQUIRE(store->apply(parseOne(virtualService("a"))));
  store.reset();
  sub->reset();
  CHECK(log.size() <= 1);
}

TEST_CASE_TEMPLATE("contract: cluster-scoped objects have no namespace", F, STORE_FIXTURES) {
  F f;
  auto store = f.open();
  auto created = store->apply(parseOne(nsObject("prod")));
  REQUIRE(created);
  CHECK(created->resource.namespace_().empty());
  auto got = store->get(ResourceKey{"", "Namespace", "", "prod"});
  REQUIRE(got);
  CHECK(got->key().display() == "Namespace prod");
  REQUIRE(store->remove(ResourceKey{"", "Namespace", "", "prod"}));
  CHECK(store->list()->empty());
}

}  // namespace
}  // namespace mesh::backends
