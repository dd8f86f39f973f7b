#include <doctest/doctest.h>

#include "analyzers/util/workload_test_support.h"

using namespace mesh::analysis;
using namespace mesh::analysis::workload_testing;
using Strings = std::vector<std::string>;

TEST_CASE("deprecation.DeprecationAnalyzer: removed rbac.istio.io CRDs and deprecated fields") {
  auto texts = workload_testing::texts("deprecation.DeprecationAnalyzer", R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicerolebindings.rbac.istio.io}
spec: {group: rbac.istio.io, names: {kind: ServiceRoleBinding}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: virtualservices.networking.istio.io}
spec: {group: networking.istio.io, names: {kind: VirtualService}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: ns}
spec:
  http:
  - fault: {delay: {percentage: {value: 5}}}
  - fault: {delay: {percent: 0}}
)");
  CHECK(texts ==
        Strings{"Deprecated: Custom resource type rbac.istio.io ServiceRoleBinding is removed"});
}
