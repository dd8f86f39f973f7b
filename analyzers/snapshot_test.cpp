#include <doctest/doctest.h>

#include "analyzers/snapshot.h"
#include "analyzers/util/workload_test_support.h"

using namespace mesh;
using namespace mesh::analysis;
using Strings = std::vector<std::string>;

namespace {

Strings describe(std::span<const core::Resource* const> resources) {
  Strings out;
  for (const core::Resource* r : resources)
    out.push_back(std::string(r->namespace_()) + "/" + std::string(r->name()) + " " + std::string(r->label("v")));
  return out;
}

}  // namespace

TEST_CASE("Snapshot: a later definition replaces an earlier one; lists are sorted by namespace and name") {
  auto snapshot = workload_testing::snapshotOf(R"(apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {v: "1", app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: y, labels: {v: "1", app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {v: "2", app: api}}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: x, labels: {v: "3"}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {v: "1", app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {v: "4", app: api}}
)");
  CHECK(describe(snapshot->all(kinds::Pod)) == Strings{"x/a 1", "x/b 4", "y/a 1"});
  CHECK(describe(snapshot->all(kinds::Service)) == Strings{"x/b 3"});
  CHECK(describe(snapshot->inNamespace(kinds::Pod, "x")) == Strings{"x/a 1", "x/b 4"});
  CHECK(describe(snapshot->inNamespace(kinds::Pod, "z")).empty());
  CHECK(snapshot->find(kinds::Pod, "x", "b")->label("v") == "4");
  CHECK(snapshot->find(kinds::Pod, "y", "b") == nullptr);
  CHECK(snapshot->all(kinds::Gateway).empty());
  // The label index holds the surviving definitions only.
  CHECK(describe(snapshot->podsWithLabel("app", "web")) == Strings{"x/a 1", "y/a 1"});
  CHECK(describe(snapshot->podsWithLabel("app", "api")) == Strings{"x/b 4"});
  CHECK(snapshot->podsWithLabel("app", "db").empty());
}
