#include "install/crd.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>

#include "core/loader.h"
#include "core/yaml/convert.h"

using mesh::install::crdSpec;
using Json = nlohmann::ordered_json;
using nlohmann::json;

namespace {

// The part of OpenAPI v3 validation the exported schemas use, as the API server applies it.
// Unknown fields, which the server would prune, are reported here: a valid sample must be
// covered field by field.
void validate(const Json& schema, const json& v, const std::string& path, std::vector<std::string>& errors) {
  auto err = [&](const std::string& m) { errors.push_back(fmt::format("{}: {}", path.empty() ? "." : path, m)); };
  bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
  if (schema.value("x-kubernetes-int-or-string", false)) {
    if (!v.is_number_integer() && !v.is_string()) err("expected integer or string");
    return;
  }
  std::string type = schema.value("type", "");
  if (type == "string" && !v.is_string()) return err("expected string");
  if (type == "integer" && !v.is_number_integer()) return err("expected integer");
  if (type == "number" && !v.is_number()) return err("expected number");
  if (type == "boolean" && !v.is_boolean()) return err("expected boolean");
  if (type == "array" && !v.is_array()) return err("expected array");
  if (type == "object" && !v.is_object()) return err("expected object");
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), Json(v)) == schema["enum"].end())
    err("value not in enum");
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>())
    err("below minimum");
  if (schema.contains("maximum") && v.is_number() && v.get<double>() > schema["maximum"].get<double>())
    err("above maximum");
  if (v.is_array() && schema.contains("items"))
    for (size_t i = 0; i < v.size(); ++i) validate(schema["items"], v[i], fmt::format("{}[{}]", path, i), errors);
  if (v.is_object()) {
    for (const auto& [k, value] : v.items()) {
      std::string child = path + "." + k;
      // The API server validates these itself; a CRD schema leaves them out.
      if (path.empty() && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      if (schema.contains("properties") && schema["properties"].contains(k))
        validate(schema["properties"][k], value, child, errors);
      else if (schema.contains("additionalProperties"))
        validate(schema["additionalProperties"], value, child, errors);
      else if (!preserve)
        errors.push_back(child + ": unknown field");
    }
    if (schema.contains("required"))
      for (const auto& r : schema["required"])
        if (!v.contains(r.get<std::string>())) err("missing required " + r.get<std::string>());
  }
  // Junctor branches carry only `required` (structural schemas allow nothing else there).
  auto hasAll = [&](const Json& alt) {
    if (!v.is_object() || !alt.contains("required")) return false;
    for (const auto& r : alt["required"])
      if (!v.contains(r.get<std::string>())) return false;
    return true;
  };
  auto matches = [&](const Json& alt) {
    if (!alt.contains("not")) return hasAll(alt);
    for (const auto& a : alt["not"]["anyOf"])
      if (hasAll(a)) return false;
    return true;
  };
  auto checkOneOf = [&](const Json& alternatives) {
    int n = 0;
    for (const auto& alt : alternatives) n += matches(alt) ? 1 : 0;
    if (n != 1) err(fmt::format("oneOf matched {} alternatives", n));
  };
  if (schema.contains("oneOf")) checkOneOf(schema["oneOf"]);
  if (schema.contains("allOf"))
    for (const auto& part : schema["allOf"])
      if (part.contains("oneOf")) checkOneOf(part["oneOf"]);
}

std::vector<std::string> validateAgainstCrd(const mesh::core::Resource& r) {
  auto spec = crdSpec(*r.info()).spec;
  for (const auto& v : spec["versions"]) {
    if (v["name"] != r.version()) continue;
    std::vector<std::string> errors;
    validate(v["schema"]["openAPIV3Schema"], mesh::core::toJson(r.root()), "", errors);
    return errors;
  }
  return {"no served version " + std::string(r.version())};
}

}  // namespace

TEST_CASE("every Istio object in the samples passes its exported CRD schema") {
  mesh::core::LoadOptions options;
  options.recursive = true;
  auto loaded = mesh::core::loadPaths(
      {std::string(MESH_SOURCE_DIR) + "/samples/bookinfo", std::string(MESH_SOURCE_DIR) + "/samples/payments"},
      options);
  REQUIRE(loaded.diagnostics.empty());
  int checked = 0, virtualServices = 0;
  for (const auto& r : loaded.resources) {
    if (!r.info() || !r.info()->group.ends_with(".istio.io")) continue;
    INFO(r.displayName(), " in ", r.file());
    auto errors = validateAgainstCrd(r);
    CHECK_MESSAGE(errors.empty(), fmt::format("{}", fmt::join(errors, "; ")));
    ++checked;
    virtualServices += r.kind() == "VirtualService" ? 1 : 0;
  }
  CHECK(checked > 10);
  CHECK(virtualServices > 2);
}

TEST_CASE("the exported schema rejects what meshctl validate rejects") {
  auto loaded = mesh::core::loadBuffer("bad.yaml", R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: a}
spec:
  hosts: [a]
  http:
  - match:
    - uri: {exact: /a, prefix: /b}
    route:
    - destination: {host: a}
      weight: "10"
    - weight: 5
    fault:
      abort: {httpStatus: 500, grpcStatus: UNAVAILABLE}
)",
                                       {});
  REQUIRE(loaded.resources.size() == 1);
  auto errors = validateAgainstCrd(loaded.resources[0]);
  std::sort(errors.begin(), errors.end());
  INFO(fmt::format("{}", fmt::join(errors, "\n")));
  CHECK(errors == std::vector<std::string>{
                      ".spec.http[0].fault.abort: oneOf matched 2 alternatives",
                      ".spec.http[0].match[0].uri: oneOf matched 2 alternatives",
                      ".spec.http[0].route[0].weight: expected integer",
                      ".spec.http[0].route[1]: missing required destination",
                  });
}

TEST_CASE("schema shapes: int-or-string, uint32 bounds, open values, enums") {
  using mesh::core::schema::findType;
  CHECK(mesh::install::openApiSchema(*findType("HTTPRetry"))["properties"]["perTryTimeout"] ==
        Json{{"type", "string"}});
  auto port = mesh::install::openApiSchema(*findType("PortSelector"))["properties"]["number"];
  CHECK(port == Json{{"maximum", 4294967295LL}, {"minimum", 0}, {"type", "integer"}});
  auto tls = mesh::install::openApiSchema(*findType("ClientTLSSettings"))["properties"]["mode"];
  CHECK(tls["enum"] == Json::array({"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"}));
  // Kinds without a declarative schema keep spec open, and say so.
  const auto* wasm = mesh::core::findKind("extensions.istio.io", "WasmPlugin");
  REQUIRE(wasm);
  auto spec = crdSpec(*wasm);
  CHECK_FALSE(spec.hasSchema);
  CHECK(spec.spec["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] ==
        Json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}});
  const auto* vs = mesh::core::findKind("networking.istio.io", "VirtualService");
  auto columns = crdSpec(*vs).spec["versions"][0]["additionalPrinterColumns"];
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c["name"]);
  CHECK(names == std::vector<std::string>{"Gateways", "Hosts", "Age"});
}
