#include <doctest/doctest.h>

#include "analyzers/mesh_config.h"
#include "analyzers/runner.h"
#include "analyzers/schema/mesh_validation.h"
#include "core/loader.h"

using namespace mesh;
using namespace mesh::analysis;

namespace {

std::vector<std::string> analyze(std::string_view analyzer, std::string_view yaml) {
  core::LoadOptions options;
  options.defaultNamespace = "";
  auto loaded = core::loadBuffer("vs.yaml", yaml, options);
  REQUIRE(loaded.diagnostics.empty());
  Snapshot snapshot(std::move(loaded.resources), defaultMeshConfig(), nlohmann::json::object());
  RunOptions run;
  run.analyzers = {std::string(analyzer)};
  std::vector<std::string> out;
  for (const auto& m : runAnalyzers(snapshot, run).messages)
    out.push_back(std::string(m.type->code) + " " + m.origin + " :" + std::to_string(m.line) + " " + m.text());
  return out;
}

constexpr std::string_view kHeader = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: web}
spec:
  hosts: [shop]
)";

}  // namespace

TEST_CASE("schema errors become IST0106 with the line of the bad field") {
  auto msgs = analyze("schema.ValidationAnalyzer.VirtualService", std::string(kHeader) + R"(  http:
  - route:
    - destination: {host: shop}
    timeout: 3 seconds
)");
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].starts_with("IST0106 VirtualService web/shop :9 Schema validation error: spec.http[0].timeout: "));
}

TEST_CASE("a valid resource gives no schema message, and other kinds are not touched") {
  CHECK(analyze("schema.ValidationAnalyzer.VirtualService", std::string(kHeader) + R"(  http:
  - route:
    - destination: {host: shop}
)").empty());
  CHECK(analyze("schema.ValidationAnalyzer.DestinationRule", std::string(kHeader) + "  http: [{route: [{destination: {host: x}}], timeout: bad}]\n").empty());
}

TEST_CASE("a second catch-all rule is unreachable (IST0130)") {
  auto msgs = analyze("schema.ValidationAnalyzer.VirtualService", std::string(kHeader) + R"(  http:
  - route: [{destination: {host: shop}}]
  - name: fallback
    route: [{destination: {host: shop}}]
)");
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0] == "IST0130 VirtualService web/shop :8 VirtualService rule \"fallback\" not used (only the last rule can have no matches).");
}

TEST_CASE("repeated matches are ineffective (IST0131); a rule of only repeats is unreachable") {
  auto msgs = analyze("schema.ValidationAnalyzer.VirtualService", std::string(kHeader) + R"(  http:
  - match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}]
    route: [{destination: {host: shop}}]
  - match: [{uri: {prefix: /b}}, {uri: {prefix: /c}}]
    route: [{destination: {host: shop}}]
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: shop}}]
  tcp:
  - route: [{destination: {host: shop}}]
)");
  std::sort(msgs.begin(), msgs.end());
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0] == "IST0130 VirtualService web/shop :11 VirtualService rule #2 not used (all matches used by prior rules).");
  CHECK(msgs[1] == "IST0131 VirtualService web/shop :11 VirtualService rule #2 match #0 is not used (duplicate/overlapping match in rule #0).");
  CHECK(msgs[2] == "IST0131 VirtualService web/shop :9 VirtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0).");
}

TEST_CASE("mesh config and mesh networks are validated as Istio does") {
  auto mc = defaultMeshConfig();
  CHECK(validateMeshConfig(mc).empty());
  mc["outboundTrafficPolicy"]["mode"] = "DENY_ALL";
  mc["extensionProviders"] = {{{"name", "otel"}}, {{"name", "otel"}}};
  auto problems = validateMeshConfig(mc);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "outboundTrafficPolicy.mode: unsupported value \"DENY_ALL\"");
  CHECK(problems[1] == "extensionProviders: duplicate name \"otel\"");

  auto mn = nlohmann::json::parse(R"({"networks": {"n1": {
      "endpoints": [{"fromRegistry": "Kubernetes"}, {"fromCidr": "10.0.0.0/33"}, {}],
      "gateways": [{"address": "1.2.3.4", "port": 15443}, {"port": 0}]}}})");
  CHECK(validateMeshNetworks(mn) == std::vector<std::string>{
                                        "networks.n1.endpoints[1].fromCidr: invalid CIDR \"10.0.0.0/33\"",
                                        "networks.n1.endpoints[2]: set exactly one of fromCidr and fromRegistry",
                                        "networks.n1.gateways[1]: set exactly one of registryServiceName and address",
                                        "networks.n1.gateways[1].port: must be a port number 1..65535"});
}

TEST_CASE("a bad mesh config is reported against MeshConfig istio-system/meshconfig") {
  auto mc = defaultMeshConfig();
  mc["ingressControllerMode"] = "SOMETIMES";
  Snapshot snapshot(meshResources(mc, nlohmann::json::object()), mc, nlohmann::json::object());
  RunOptions run;
  run.analyzers = {"schema.ValidationAnalyzer.MeshConfig"};
  auto msgs = runAnalyzers(snapshot, run).messages;
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].origin == "MeshConfig istio-system/meshconfig");
  CHECK(msgs[0].text() == "Schema validation error: ingressControllerMode: unsupported value \"SOMETIMES\"");
}
