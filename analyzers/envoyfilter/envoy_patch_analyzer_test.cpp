#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("envoyfilter.EnvoyPatchAnalyzer: operations by target and priority") {
  auto found = run("envoyfilter.EnvoyPatchAnalyzer", R"(
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: replace-cluster, namespace: ns}
spec:
  priority: 10
  configPatches:
  - {applyTo: CLUSTER, patch: {operation: REPLACE, value: {name: c}}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: route-ops, namespace: ns}
spec:
  configPatches:
  - {applyTo: HTTP_ROUTE, patch: {operation: ADD}}
  - {applyTo: ROUTE_CONFIGURATION, patch: {operation: REMOVE}}
  - {applyTo: HTTP_FILTER, patch: {operation: INSERT_FIRST, value: {name: f}}}
  - {applyTo: HTTP_FILTER, patch: {operation: MERGE, value: {name: f}}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: versioned, namespace: ns}
spec:
  configPatches:
  - applyTo: 4
    match: {proxy: {proxyVersion: '^1\.2.*'}}
    patch: {operation: 5, value: {name: lua}}
  - {applyTo: NETWORK_FILTER, patch: {operation: REPLACE, value: {name: lua}}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: z-later, namespace: ns}
spec:
  configPatches:
  - {applyTo: HTTP_FILTER, patch: {operation: INSERT_BEFORE, value: {name: lua}}}
  - applyTo: HTTP_FILTER
  - {applyTo: HTTP_FILTER, patch: {operation: INSERT_BEFORE, value: {name: never-checked}}}
)");
  CHECK(found == Strings{"IST0151 EnvoyFilter ns/versioned",
                         "IST0152 EnvoyFilter ns/replace-cluster",
                         "IST0153 EnvoyFilter ns/route-ops", "IST0154 EnvoyFilter ns/route-ops",
                         "IST0155 EnvoyFilter ns/versioned", "IST0155 EnvoyFilter ns/z-later"});
}
