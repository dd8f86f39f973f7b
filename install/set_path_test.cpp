#include "install/set_path.h"

#include <doctest/doctest.h>

using mesh::install::applySetFlag;
using mesh::install::formatPath;
using mesh::install::lookupPath;
using mesh::install::parsePath;
using mesh::install::parseSetFlag;
using mesh::install::PathElement;
using nlohmann::json;

namespace {

// Applies one flag to `spec`; returns the error message, "" on success.
std::string set(json& spec, const std::string& flag) {
  auto parsed = parseSetFlag(flag);
  if (!parsed) return parsed.error().message;
  auto applied = applySetFlag(spec, *parsed);
  return applied ? "" : applied.error().message;
}

}  // namespace

TEST_CASE("paths: dots, indexes, selectors and escapes") {
  auto p = parsePath("components.ingressGateways[0].k8s.replicaCount");
  REQUIRE(p);
  REQUIRE(p->size() == 5);
  CHECK((*p)[1].key == "ingressGateways");
  CHECK((*p)[2].kind == PathElement::Kind::Index);
  CHECK((*p)[2].index == 0);
  CHECK(formatPath(*p) == "components.ingressGateways[0].k8s.replicaCount");

  // istioctl also writes the index as its own element.
  auto dotted = parsePath("components.ingressGateways.[0].enabled");
  REQUIRE(dotted);
  CHECK(formatPath(*dotted) == "components.ingressGateways[0].enabled");

  auto sel = parsePath("components.ingressGateways[name:istio.ingress].enabled");
  REQUIRE(sel);
  CHECK((*sel)[2].kind == PathElement::Kind::Select);
  CHECK((*sel)[2].key == "name");
  CHECK((*sel)[2].value == "istio.ingress");

  auto escaped = parsePath(R"(values.pilot.podAnnotations.sidecar\.istio\.io/inject)");
  REQUIRE(escaped);
  CHECK(escaped->back().key == "sidecar.istio.io/inject");
  CHECK(formatPath(*escaped) == R"(values.pilot.podAnnotations.sidecar\.istio\.io/inject)");
}

TEST_CASE("malformed paths are usage errors that say what is wrong") {
  auto expectError = [](std::string_view text, std::string_view what) {
    auto p = parsePath(text);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == mesh::ErrorCode::Usage);
    CHECK(p.error().message.find(what) != std::string::npos);
  };
  expectError("a..b", "empty element");
  expectError(".a", "empty element");
  expectError("a.", "ends in a dot");
  expectError("a[0", "[ without ]");
  expectError("a[x]", "[x] selects nothing");
  expectError("a[0]b", "expected . or [ after ]");
  expectError("a\\", "lone backslash");
  expectError("", "empty path");
  auto noValue = parseSetFlag("values.global.hub");
  REQUIRE_FALSE(noValue);
  CHECK(noValue.error().message == "--set values.global.hub: expected path=value");
}

TEST_CASE("values are typed by the schema, and istioctl's way under free-form fields") {
  json spec = json::object();
  CHECK(set(spec, "tag=1.20") == "");
  CHECK(spec["tag"] == "1.20");  // a string field keeps the text, unlike istioctl
  CHECK(set(spec, "values.pilot.autoscaleMax=7") == "");
  CHECK(spec["values"]["pilot"]["autoscaleMax"] == 7);
  CHECK(set(spec, "values.pilot.autoscaleEnabled=False") == "");  // Go's ParseBool spellings
  CHECK(spec["values"]["pilot"]["autoscaleEnabled"] == false);
  CHECK(set(spec, "meshConfig.defaultConfig.tracing.sampling=12.5") == "");
  CHECK(spec["meshConfig"]["defaultConfig"]["tracing"]["sampling"] == 12.5);
  CHECK(set(spec, "components.pilot.k8s.resources.requests.cpu=250m") == "");
  CHECK(spec["components"]["pilot"]["k8s"]["resources"]["requests"]["cpu"] == "250m");
  CHECK(set(spec, "components.pilot.k8s.nodeSelector={disk: ssd}") == "");
  CHECK(spec["components"]["pilot"]["k8s"]["nodeSelector"] == json{{"disk", "ssd"}});
  // Free-form (any) fields: integer, number, boolean, else string.
  CHECK(set(spec, "meshConfig.localityLbSetting.enabled=true") == "");
  CHECK(spec["meshConfig"]["localityLbSetting"]["enabled"] == true);
  CHECK(set(spec, "meshConfig.localityLbSetting.failoverPriority=a\\,b") == "");
  CHECK(spec["meshConfig"]["localityLbSetting"]["failoverPriority"] == "a,b");
}

TEST_CASE("unknown fields, wrong types and bad enum values name the path") {
  json spec = json::object();
  CHECK(set(spec, "foo.bar=1") == "--set foo.bar=1: unknown field \"foo\" in spec");
  CHECK(set(spec, "components.pilott.enabled=true") ==
        "--set components.pilott.enabled=true: unknown field \"pilott\" in components");
  CHECK(set(spec, "values.pilot.autoscaleMin=three") ==
        "--set values.pilot.autoscaleMin=three: values.pilot.autoscaleMin needs an integer, not \"three\"");
  CHECK(set(spec, "values.global.imagePullPolicy=Sometimes") ==
        "--set values.global.imagePullPolicy=Sometimes: values.global.imagePullPolicy: value \"Sometimes\" is not "
        "allowed: use Always, Never or IfNotPresent");
  CHECK(set(spec, "components.pilot=on") ==
        "--set components.pilot=on: components.pilot needs a map: {key: value}, or set one field with .field, not "
        "\"on\"");
  CHECK(set(spec, "components.ingressGateways.enabled=true") ==
        "--set components.ingressGateways.enabled=true: components.ingressGateways is a list: select an item with "
        "[N] or [key:value]");
  CHECK(set(spec, "values.global.hub.x=1") ==
        "--set values.global.hub.x=1: values.global.hub is string: it has no field \"x\"");
}

TEST_CASE("list items: by index (appending at the end) and by field") {
  json spec = json::parse(R"({"components": {"ingressGateways": [{"name": "a", "enabled": true}]}})");
  CHECK(set(spec, "components.ingressGateways[name:a].enabled=false") == "");
  CHECK(spec["components"]["ingressGateways"][0]["enabled"] == false);
  CHECK(set(spec, "components.ingressGateways[1].name=b") == "");
  CHECK(spec["components"]["ingressGateways"][1]["name"] == "b");
  CHECK(set(spec, "components.ingressGateways[5].name=c") ==
        "--set components.ingressGateways[5].name=c: components.ingressGateways has 2 item(s): use an index up to 2 "
        "(which appends)");
  CHECK(set(spec, "components.ingressGateways[name:zz].enabled=true") ==
        "--set components.ingressGateways[name:zz].enabled=true: no item of components.ingressGateways has name: zz");

  auto found = lookupPath(spec, *parsePath("components.ingressGateways[name:b]"));
  REQUIRE(found);
  CHECK((*found)["name"] == "b");
  auto missing = lookupPath(spec, *parsePath("components.pilot.k8s"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "nothing at components.pilot");
}
