#include "cli/proxy_config/k8s_yaml.h"

#include <doctest/doctest.h>

using namespace mesh::cli::pc;

namespace {

std::string yaml(std::string_view json) {
  auto v = parseJson(json);
  REQUIRE(v.has_value());
  return toK8sYaml(*v);
}

}  // namespace

TEST_CASE("k8s yaml sorts keys and puts list items at the parent key's indentation") {
  CHECK(yaml(R"({"b": 1, "a": {"d": [1, 2], "c": "x"}})") == "a:\n  c: x\n  d:\n  - 1\n  - 2\nb: 1\n");
  CHECK(yaml(R"([{"b": 1, "a": 2}, [3]])") == "- a: 2\n  b: 1\n- - 3\n");
  CHECK(yaml(R"({"e": {}, "l": [], "nu": null, "t": true})") == "e: {}\nl: []\nnu: null\nt: true\n");
  // Keys that read as other types are quoted too ("n" is a YAML 1.1 boolean).
  CHECK(yaml(R"({"n": 1, "80": 2})") == "\"80\": 2\n\"n\": 1\n");
}

TEST_CASE("k8s yaml orders keys like go-yaml: non-letters first, digit runs by value") {
  CHECK(yaml(R"({"b": 1, "@type": 2, "a10": 3, "a9": 4, "B": 5})") == "'@type': 2\nB: 5\na9: 4\na10: 3\nb: 1\n");
}

TEST_CASE("k8s yaml quotes strings that would read as other types") {
  CHECK(yaml(R"({"v": "1.20"})") == "v: \"1.20\"\n");
  CHECK(yaml(R"({"v": "1605"})") == "v: \"1605\"\n");
  CHECK(yaml(R"({"v": "true"})") == "v: \"true\"\n");
  CHECK(yaml(R"({"v": "on"})") == "v: \"on\"\n");
  CHECK(yaml(R"({"v": ""})") == "v: \"\"\n");
  CHECK(yaml(R"({"v": "2022-12-08T11:03:53.361Z"})") == "v: \"2022-12-08T11:03:53.361Z\"\n");
  CHECK(yaml(R"({"v": "2022-12-08T09:07:09Z/10"})") == "v: 2022-12-08T09:07:09Z/10\n");
  CHECK(yaml(R"({"v": "1:20"})") == "v: \"1:20\"\n");
  CHECK(yaml(R"({"v": "outbound|80||a.b"})") == "v: outbound|80||a.b\n");
}

TEST_CASE("k8s yaml single-quotes indicators and double-quotes what single quotes cannot hold") {
  CHECK(yaml(R"({"v": "{\"a\":1}"})") == "v: '{\"a\":1}'\n");
  CHECK(yaml(R"({"v": "it's: here"})") == "v: 'it''s: here'\n");
  CHECK(yaml(R"({"v": "- x"})") == "v: '- x'\n");
  CHECK(yaml(R"({"v": "tab\there"})") == "v: \"tab\\there\"\n");
  CHECK(yaml(R"({"v": " lead"})") == "v: ' lead'\n");
}

TEST_CASE("k8s yaml writes multi-line strings as literal blocks") {
  CHECK(yaml(R"({"v": "a\nb"})") == "v: |-\n  a\n  b\n");
  CHECK(yaml(R"({"v": "a\nb\n"})") == "v: |\n  a\n  b\n");
  CHECK(yaml(R"({"l": ["x\ny"]})") == "l:\n- |-\n  x\n  y\n");
}

TEST_CASE("k8s yaml folds long plain scalars after column 80") {
  std::string words;
  for (int i = 0; i < 10; ++i) words += (i ? " " : "") + std::string("aaaaaaaaa");
  std::string first, rest;
  for (int i = 0; i < 8; ++i) first += (i ? " " : "") + std::string("aaaaaaaaa");
  rest = "aaaaaaaaa aaaaaaaaa";
  CHECK(yaml("{\"k\": \"" + words + "\"}") == "k: " + first + "\n  " + rest + "\n");
}

TEST_CASE("k8s yaml re-reads numbers: integers stay, floats print like Go's %g") {
  CHECK(yaml(R"({"a": 140, "b": 0.5, "c": 1e-07, "d": 1234567.5, "e": 100.0})") ==
        "a: 140\nb: 0.5\nc: 1e-07\nd: 1.2345675e+06\ne: 100\n");
}
