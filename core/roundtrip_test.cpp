// Every valid example survives YAML → tree → YAML and → JSON → tree with the same meaning:
// the resource model loses nothing a user wrote.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/loader.h"
#include "core/yaml/convert.h"

using namespace mesh::core;

TEST_CASE("valid testdata and samples round-trip through YAML and JSON") {
  LoadOptions options;
  options.recursive = true;
  auto loaded = loadPaths({std::string(MESH_SOURCE_DIR) + "/testdata/valid", std::string(MESH_SOURCE_DIR) + "/samples"},
                          options);
  REQUIRE(loaded.diagnostics.empty());
  REQUIRE(loaded.resources.size() > 20);
  for (const Resource& r : loaded.resources) {
    CAPTURE(r.displayName());
    auto again = loadBuffer("again.yaml", toYaml(r.root()), options);
    REQUIRE(again.resources.size() == 1);
    CHECK(sameValue(r.root(), again.resources[0].root()));
    Arena arena;
    CHECK(sameValue(r.root(), *fromJson(arena, toJson(r.root()))));
  }
}
