#include <doctest/doctest.h>

#include "analyzers/message.h"
#include "analyzers/registry.h"

using namespace mesh::analysis;

TEST_CASE("Go fmt verbs render as istioctl prints them") {
  CHECK(formatGo("Referenced %s not found: %q", {std::string("host"), std::string("a\"b")}) ==
        "Referenced host not found: \"a\\\"b\"");
  CHECK(formatGo("port %d uses %v", {int64_t{80}, std::vector<std::string>{"a", "b"}}) == "port 80 uses [a b]");
  CHECK(formatGo("%q", {std::vector<std::string>{"x"}}) == "[\"x\"]");
  CHECK(formatGo("%s and %s", {std::string("one")}) == "one and %!s(MISSING)");
}

TEST_CASE("the catalogue has Istio's codes, unique and sorted") {
  auto types = allMessageTypes();
  CHECK(types.size() == 68);
  for (size_t i = 1; i < types.size(); ++i) CHECK(types[i - 1].code < types[i].code);
  CHECK(findMessageType("IST0101")->name == "ReferencedResourceNotFound");
  CHECK(findMessageType("ReferencedResourceNotFound")->level == Level::Error);
}

TEST_CASE("the registry is sorted by name and names are unique") {
  const auto& all = allAnalyzers();
  REQUIRE_FALSE(all.empty());
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1]->info().name < all[i]->info().name);
}
