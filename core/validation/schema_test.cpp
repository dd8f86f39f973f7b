#include "core/validation/schema.h"

#include <doctest/doctest.h>

#include "core/loader.h"
#include "core/validation/validate.h"

using namespace mesh::core;

namespace {

std::vector<std::string> errorsOf(std::string_view yaml) {
  auto loaded = loadBuffer("t.yaml", yaml, {});
  std::vector<std::string> out;
  for (const auto& d : loaded.diagnostics) out.push_back(d.format());
  for (const auto& d : validateAll(loaded.resources))
    if (d.severity == Severity::Error) out.push_back(d.format());
  return out;
}

}  // namespace

TEST_CASE("every schema text loads and every kind has a root type") {
  auto kinds = schema::allSchemas();
  CHECK(kinds.size() == 19);
  for (const auto& k : kinds) {
    INFO(k.kind);
    REQUIRE(k.root != nullptr);
    CHECK(k.root->field("metadata") != nullptr);
  }
  REQUIRE(schema::findSchema("networking.istio.io", "VirtualService"));
  const schema::Type* sm = schema::findType("StringMatch");
  REQUIRE(sm);
  CHECK(sm->oneofs.size() == 1);
  CHECK(sm->protoNames);
  CHECK(schema::findType("HTTPRoute")->field("route")->type->describe() == "list<HTTPRouteDestination>");
}

TEST_CASE("the schema check reports types, unknown fields, required fields and enums") {
  auto errs = errorsOf(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r}
spec:
  hostz: [a]
  http:
  - route:
    - destination: {host: a}
      weight: "10"
    - weight: 5
)");
  REQUIRE(errs.size() >= 3);
  CHECK(errs[0] == "t.yaml:5:3: VirtualService r.default: spec: unknown field \"hostz\" (did you mean \"hosts\"?)");
  CHECK(errs[1] == "t.yaml:9:15: VirtualService r.default: spec.http[0].route[0].weight: expected integer, found string");
  CHECK(errs[2] == "t.yaml:10:7: VirtualService r.default: spec.http[0].route[1].destination: required field is missing");
}

TEST_CASE("proto field names are accepted in snake_case for Istio kinds") {
  auto errs = errorsOf(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r}
spec:
  host: a
  traffic_policy:
    outlier_detection: {consecutive_5xx_errors: 3, interval: 10s, base_ejection_time: 30s}
)");
  CHECK(errs.empty());
}
