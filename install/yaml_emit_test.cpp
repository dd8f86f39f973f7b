#include "install/yaml_emit.h"

#include <doctest/doctest.h>

#include "core/yaml/convert.h"
#include "core/yaml/parser.h"

using mesh::install::toYaml;
using Json = nlohmann::ordered_json;

TEST_CASE("strings that would read back as something else are quoted; the text reads back the same") {
  Json doc{{"apiVersion", "v1"},
           {"kind", "ConfigMap"},
           {"data", Json{{"port", "15014"},
                         {"flag", "true"},
                         {"yes", "yes"},
                         {"empty", ""},
                         {"tilde", "~"},
                         {"mesh", "a: 1\nb:\n  c: 2\n"},
                         {"noNewline", "x\ny"},
                         {"env", "$(POD_NAME).$(POD_NAMESPACE)"}}},
           {"n", 3},
           {"f", 1.0},
           {"list", Json::array()},
           {"map", Json::object()}};
  std::string text = toYaml(doc);
  CHECK(text.find("port: \"15014\"\n") != std::string::npos);
  CHECK(text.find("flag: \"true\"\n") != std::string::npos);
  CHECK(text.find("\"yes\": \"yes\"") != std::string::npos);  // a YAML 1.1 boolean, as key too
  CHECK(text.find("mesh: |\n    a: 1\n    b:\n      c: 2\n") != std::string::npos);
  CHECK(text.find("f: 1.0\n") != std::string::npos);
  CHECK(text.find("list: []\n") != std::string::npos);
  CHECK(text.find("map: {}\n") != std::string::npos);
  CHECK(text.starts_with("apiVersion: v1\nkind: ConfigMap\n"));
  auto parsed = mesh::core::parseYaml("t.yaml", text);
  REQUIRE_FALSE(parsed.error);
  CHECK(mesh::core::toJson(*parsed.documents[0]) == nlohmann::json(doc));
}
