// The value types of core/store/config_store.h: keys, filters, subscriptions. (core_test does
// not build core/store/; the interface is tested here, beside its implementations.)
#include <doctest/doctest.h>

#include <set>
#include <unordered_set>

#include "backends/testing/store_test_support.h"

namespace mesh::backends {
namespace {

using namespace testing;
using core::ResourceKey;

TEST_CASE("ResourceKey: taken from an object, ordered, hashed and displayed") {
  auto key = ResourceKey::of(parseOne(virtualService("reviews", "prod")));
  CHECK(key == ResourceKey{"networking.istio.io", "VirtualService", "prod", "reviews"});
  CHECK(key.display() == "VirtualService.networking.istio.io prod/reviews");
  CHECK(ResourceKey::of(parseOne(nsObject("prod"))).display() == "Namespace prod");
  CHECK(ResourceKey::of(parseOne(configMap("c"))).display() == "ConfigMap default/c");

  std::set<ResourceKey> ordered = {vsKey("b"), vsKey("a", "z"), vsKey("a"), cmKey("x")};
  std::vector<std::string> order;
  for (const auto& k : ordered) order.push_back(k.display());
  CHECK(order == std::vector<std::string>{"ConfigMap default/x",
                                          "VirtualService.networking.istio.io default/a",
                                          "VirtualService.networking.istio.io default/b",
                                          "VirtualService.networking.istio.io z/a"});

  std::unordered_set<ResourceKey> hashed = {vsKey("a"), vsKey("a"), vsKey("a", "other"),
                                            cmKey("a")};
  CHECK(hashed.size() == 3);
  CHECK(std::hash<ResourceKey>{}(vsKey("a")) == std::hash<ResourceKey>{}(vsKey("a")));
  CHECK(std::hash<ResourceKey>{}(ResourceKey{"", "", "ab", ""}) !=
        std::hash<ResourceKey>{}(ResourceKey{"", "", "", "ab"}));
}

TEST_CASE("Filter: unset members match everything; namespace \"\" means cluster-scoped") {
  core::Filter all;
  CHECK(all.matches(vsKey("a")));
  core::Filter kind{.kind = core::GroupKind{"networking.istio.io", "VirtualService"}};
  CHECK(kind.matches(vsKey("a", "x")));
  CHECK_FALSE(kind.matches(cmKey("a")));
  core::Filter clusterScoped{.namespace_ = ""};
  CHECK(clusterScoped.matches(ResourceKey{"", "Namespace", "", "prod"}));
  CHECK_FALSE(clusterScoped.matches(cmKey("a")));
}

TEST_CASE("ConfigStore: Kubernetes' rules for names and namespaces") {
  CHECK(core::ConfigStore::validName("reviews"));
  CHECK(core::ConfigStore::validName("reviews.prod-1"));
  CHECK_FALSE(core::ConfigStore::validName(""));
  CHECK_FALSE(core::ConfigStore::validName("Reviews"));
  CHECK_FALSE(core::ConfigStore::validName("-reviews"));
  CHECK_FALSE(core::ConfigStore::validName("reviews."));
  CHECK_FALSE(core::ConfigStore::validName("a/b"));
  CHECK_FALSE(core::ConfigStore::validName(".."));
  CHECK_FALSE(core::ConfigStore::validName(std::string(254, 'a')));
  CHECK(core::ConfigStore::validNamespace("istio-system"));
  CHECK_FALSE(core::ConfigStore::validNamespace("istio.system"));
  CHECK_FALSE(core::ConfigStore::validNamespace(std::string(64, 'a')));
}

TEST_CASE("Subscription: cancels once, on reset or destruction, and moves") {
  int cancelled = 0;
  {
    core::Subscription a([&] { ++cancelled; });
    CHECK(a.active());
    core::Subscription b = std::move(a);
    CHECK_FALSE(a.active());  // NOLINT(bugprone-use-after-move): moved-from is documented as empty
    CHECK(cancelled == 0);
    b.reset();
    b.reset();
    CHECK(cancelled == 1);
    core::Subscription c([&] { ++cancelled; });
    c = core::Subscription([&] { cancelled += 10; });  // the old one is cancelled on assignment
    CHECK(cancelled == 2);
  }
  CHECK(cancelled == 12);
}

}  // namespace
}  // namespace mesh::backends
