#include <doctest/doctest.h>

#include "analyzers/util/selector_index.h"
#include "analyzers/util/workload_test_support.h"

using namespace mesh;
using namespace mesh::analysis;
using Strings = std::vector<std::string>;

namespace {

Strings names(const std::vector<const core::Resource*>& resources) {
  Strings out;
  for (const core::Resource* r : resources) out.emplace_back(r->name());
  return out;
}

}  // namespace

TEST_CASE("serviceSelectors: the Services of the pod's namespace whose selector picks its labels") {
  auto snapshot = workload_testing::snapshotOf(R"(apiVersion: v1
kind: Service
metadata: {name: s3-versioned, namespace: a}
spec: {selector: {app: web, version: v1}}
---
apiVersion: v1
kind: Service
metadata: {name: s1-web, namespace: a}
spec: {selector: {app: web}}
---
apiVersion: v1
kind: Service
metadata: {name: s2-all, namespace: a}
spec: {}
---
apiVersion: v1
kind: Service
metadata: {name: s4-v2, namespace: a}
spec: {selector: {app: web, version: v2}}
---
apiVersion: v1
kind: Service
metadata: {name: s5-other-namespace, namespace: b}
spec: {selector: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a, labels: {version: v1, app: web, zone: z1}}
)");
  SelectorIndex index = serviceSelectors(*snapshot);
  const core::Node* labels = snapshot->find(kinds::Pod, "a", "p")->labels();
  // In Snapshot order (by name), selector-less Services only when asked for.
  CHECK(names(index.selecting("a", labels, true)) == Strings{"s1-web", "s2-all", "s3-versioned"});
  CHECK(names(index.selecting("a", labels, false)) == Strings{"s1-web", "s3-versioned"});
  CHECK(names(index.selecting("b", labels, true)) == Strings{"s5-other-namespace"});
  CHECK(names(index.selecting("c", labels, true)).empty());
  CHECK(names(index.selecting("a", nullptr, true)) == Strings{"s2-all"});
}
