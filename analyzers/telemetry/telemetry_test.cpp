#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("telemetry.ProviderAnalyzer: a mesh default provider makes empty lists fine") {
  constexpr std::string_view kTelemetry = R"(
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: ns}
spec:
  accessLogging:
  - {}
  - disabled: true
  - providers: [{name: envoy}]
)";
  CHECK(run("telemetry.ProviderAnalyzer", kTelemetry) == Strings{"IST0157 Telemetry ns/t"});
  nlohmann::json mesh = defaultMeshConfig();
  mesh["defaultProviders"] = {{"accessLogging", {"envoy"}}};
  CHECK(run("telemetry.ProviderAnalyzer", kTelemetry, mesh).empty());
}

TEST_CASE("telemetry.SelectorAnalyzer and DefaultSelectorAnalyzer texts") {
  constexpr std::string_view kInput = R"(
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns, labels: {app: a, v: "1"}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: none, namespace: ns}
spec: {selector: {matchLabels: {v: "1", app: b}}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: one, namespace: ns}
spec: {selector: {matchLabels: {app: a}}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: two, namespace: ns}
spec: {selector: {matchLabels: {v: "1"}}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: empty-selector, namespace: ns}
spec: {selector: {}}
)";
  auto texts = workload_testing::texts("telemetry.SelectorAnalyzer", kInput);
  CHECK(texts == Strings{"Referenced selector not found: \"app=b,v=1\"",
                         "The Telemetries [one two] in namespace \"ns\" select the same workload "
                         "pod \"p\", which can "
                         "lead to undefined behavior.",
                         "The Telemetries [one two] in namespace \"ns\" select the same workload "
                         "pod \"p\", which can "
                         "lead to undefined behavior."});
  CHECK(run("telemetry.DefaultSelectorAnalyzer", kInput).empty());
}

TEST_CASE("telemetry.LightstepAnalyzer: only providers of the lightstep type") {
  nlohmann::json mesh = defaultMeshConfig();
  mesh["extensionProviders"] = nlohmann::json::parse(
      R"([{"name": "ls", "lightstep": {"service": "x", "port": 443}}, {"name": "zip", "zipkin": {"service": "z"}}])");
  auto found = workload_testing::texts("telemetry.LightstepAnalyzer", R"(
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: ns}
spec:
  tracing: [{providers: [{name: zip}, {name: ls}]}]
)",
                                       mesh);
  CHECK(found == Strings{"Deprecated: The Lightstep provider ls is deprecated, please migrate to "
                         "OpenTelemetry provider."});
}
