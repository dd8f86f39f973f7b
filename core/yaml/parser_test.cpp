#include "core/yaml/parser.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/yaml/convert.h"

using namespace mesh::core;

TEST_CASE("documents keep line and column of every node") {
  auto f = parseYaml("a.yaml", "a: 1\nb:\n  - x\n  - 'y'\n---\n---\nc: true\n");
  REQUIRE_FALSE(f.error);
  REQUIRE(f.documents.size() == 2);
  const Node& doc = *f.documents[0];
  CHECK(doc.get("a")->asInt() == 1);
  const Node* b = doc.get("b");
  REQUIRE(b->isSequence());
  CHECK(b->items()[1]->mark().line == 4);
  CHECK(b->items()[1]->mark().column == 5);
  CHECK(b->items()[1]->scalarKind() == ScalarKind::String);
  CHECK(f.documents[1]->get("c")->asBool() == true);
}

TEST_CASE("scalars resolve as Kubernetes' decoder does") {
  auto f = parseYaml("s.yaml", "a: yes\nb: '8080'\nc: 1.5\nd: ~\ne: 0x10\nf: hello\ng: -3\n");
  const Node& d = *f.documents[0];
  CHECK(d.get("a")->asBool() == true);
  CHECK(d.get("b")->scalarKind() == ScalarKind::String);
  CHECK(d.get("c")->asDouble() == 1.5);
  CHECK(d.get("d")->isNull());
  CHECK(d.get("e")->asInt() == 16);
  CHECK(d.get("f")->asString() == "hello");
  CHECK(d.get("g")->asInt() == -3);
}

TEST_CASE("JSON input is read with positions") {
  auto f = parseYaml("x.json", "{\n  \"kind\": \"Service\",\n  \"port\": 80\n}\n");
  REQUIRE_FALSE(f.error);
  CHECK(f.documents[0]->get("port")->mark().line == 3);
  CHECK(f.documents[0]->get("port")->asInt() == 80);
}

TEST_CASE("duplicate keys are refused with both lines") {
  auto f = parseYaml("d.yaml", "a: 1\nb: 2\na: 3\n");
  REQUIRE(f.error);
  CHECK(f.error->line == 3);
  CHECK(f.error->message == "duplicate key \"a\" (first defined at line 1)");
}

TEST_CASE("merge keys fill in what the map does not set") {
  auto f = parseYaml("m.yaml", "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n");
  REQUIRE_FALSE(f.error);
  const Node* d = f.documents[0]->get("derived");
  CHECK(d->get("x")->asInt() == 1);
  CHECK(d->get("y")->asInt() == 3);
  CHECK(d->size() == 2);
}

TEST_CASE("alias bombs stop at the node limit") {
  std::string bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? "," : "") + "*" + prev;
    bomb += "]\n";
    prev = c;
  }
  auto f = parseYaml("bomb.yaml", bomb);
  REQUIRE(f.error);
  CHECK(f.error->message.find("through aliases") != std::string::npos);
}

TEST_CASE("deep nesting is refused, not recursed into") {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  auto f = parseYaml("deep.yaml", deep);
  REQUIRE(f.error);
  CHECK(f.error->message == "nesting deeper than 256 levels");
}

TEST_CASE("oversized scalars, binary data, bad UTF-8 and tabs are named errors") {
  ParseLimits small;
  small.maxScalarBytes = 10;
  CHECK(parseYaml("big.yaml", "a: 01234567890123\n", small).error->message ==
        "scalar of 14 bytes is over the limit of 10 bytes");
  auto bin = parseYaml("bin.yaml", std::string("a: 1\nb\0c", 8));
  REQUIRE(bin.error);
  CHECK(bin.error->line == 2);
  auto utf = parseYaml("u.yaml", "a: 1\nb: \xff\xfe\n");
  REQUIRE(utf.error);
  CHECK(utf.error->message.starts_with("invalid UTF-8"));
  auto tab = parseYaml("t.yaml", "a:\n\tb: 1\n");
  REQUIRE(tab.error);
  CHECK(tab.error->line == 2);
  CHECK(tab.error->message.find("tab character") != std::string::npos);
}

TEST_CASE("BOM and CRLF are accepted") {
  auto f = parseYaml("bom.yaml", "\xEF\xBB\xBFkind: Service\r\nname: x\r\n");
  REQUIRE_FALSE(f.error);
  CHECK(f.documents[0]->get("kind")->text() == "Service");
  CHECK(f.documents[0]->get("name")->mark().line == 2);
}

TEST_CASE("YAML and JSON round-trip without loss") {
  std::string src =
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\n  labels: {port: '80', on: 'yes'}\n"
      "spec:\n  hosts: [a, b]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: 100\n  note: |\n    two\n    lines\n";
  auto f = parseYaml("r.yaml", src);
  REQUIRE_FALSE(f.error);
  const Node& original = *f.documents[0];
  auto again = parseYaml("r2.yaml", toYaml(original));
  REQUIRE_FALSE(again.error);
  CHECK(sameValue(original, *again.documents[0]));
  Arena arena;
  const Node* fromJ = fromJson(arena, toJson(original));
  CHECK(sameValue(original, *fromJ));
  CHECK(toJson(original)["metadata"]["labels"]["port"] == "80");
}
