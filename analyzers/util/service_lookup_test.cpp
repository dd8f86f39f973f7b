#include <doctest/doctest.h>

#include "analyzers/util/service_lookup.h"
#include "analyzers/util/workload_test_support.h"

using namespace mesh;
using namespace mesh::analysis;

TEST_CASE("ServiceHostIndex: wildcard hosts match by suffix; the first in scope/host order wins") {
  auto snapshot = workload_testing::snapshotOf(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wide, namespace: a}
spec: {hosts: ["*.example.com"]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: narrow, namespace: a}
spec: {hosts: ["*.b.example.com"]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: local, namespace: a}
spec: {hosts: ["*.local.example.org"], exportTo: ["."]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: everything, namespace: c}
spec: {hosts: ["*"], exportTo: ["."]}
)");
  ServiceHostIndex index(*snapshot);
  auto origin = [&](std::string_view ns, std::string_view host) {
    const ServiceHostEntry* e = index.lookup(ns, {}, host);
    return e ? std::string(e->origin->name()) : std::string("-");
  };
  // "*/*.b.example.com" sorts before "*/*.example.com".
  CHECK(origin("x", "a.b.example.com") == "narrow");
  CHECK(origin("x", "*.b.example.com") == "narrow");
  CHECK(origin("x", "a.c.example.com") == "wide");
  CHECK(origin("x", "example.com") == "-");
  CHECK(origin("a", "x.local.example.org") == "local");
  CHECK(origin("x", "x.local.example.org") == "-");
  CHECK(origin("c", "anything.at.all") == "everything");
}
