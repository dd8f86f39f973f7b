#include "controlplane/server/config_generations.h"

#include <doctest/doctest.h>

#include "core/loader.h"

namespace mesh::server {
namespace {

core::StoredResource object(std::string_view name, uint64_t revision) {
  std::string yaml = fmt::format("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
                                 "metadata: {{name: {}, namespace: ns}}\nspec: {{hosts: [a]}}\n", name);
  core::LoadResult loaded = core::loadBuffer("t.yaml", yaml, core::LoadOptions{});
  REQUIRE(loaded.resources.size() == 1);
  return core::StoredResource{std::move(loaded.resources[0]), revision};
}

core::ResourceKey key(std::string_view name) {
  return {"networking.istio.io", "VirtualService", "ns", std::string(name)};
}

TEST_CASE("ConfigGenerations: unchanged objects keep their generation, changes and deletions get the new one") {
  auto g1 = ConfigGenerations::next(nullptr, {object("a", 1), object("b", 2)}, 1);
  auto g2 = ConfigGenerations::next(g1.get(), {object("a", 1), object("b", 5), object("c", 6)}, 2);
  CHECK(g2->find(key("a"))->generation == 1);
  CHECK(g2->find(key("b"))->generation == 2);
  CHECK(g2->find(key("b"))->revision == 5);
  CHECK(g2->find(key("c"))->generation == 2);
  CHECK(g2->find(key("zz")) == nullptr);

  auto g3 = ConfigGenerations::next(g2.get(), {object("a", 1)}, 3);
  CHECK(g3->find(key("b"))->deleted);
  CHECK(g3->find(key("b"))->generation == 3);
  // Deletions are remembered in later generations, and a re-created object is new again.
  auto g4 = ConfigGenerations::next(g3.get(), {object("a", 1), object("c", 9)}, 4);
  CHECK(g4->find(key("b"))->deleted);
  CHECK(g4->find(key("b"))->generation == 3);
  CHECK_FALSE(g4->find(key("c"))->deleted);
  CHECK(g4->find(key("c"))->generation == 4);
}

TEST_CASE("ConfigGenerations: remembers at most kMaxDeleted deletions") {
  std::vector<core::StoredResource> many;
  for (size_t i = 0; i < ConfigGenerations::kMaxDeleted + 10; ++i) many.push_back(object(fmt::format("o{}", i), i + 1));
  auto g1 = ConfigGenerations::next(nullptr, many, 1);
  auto g2 = ConfigGenerations::next(g1.get(), {}, 2);
  CHECK(g2->size() == ConfigGenerations::kMaxDeleted);
}

}  // namespace
}  // namespace mesh::server
