// VirtualServiceSet answers host questions as the scans it replaced did: exact host before
// wildcards, the longest wildcard, snapshot order among equals, both directions for TCP.
#include <doctest/doctest.h>

#include "controlplane/testing/fixtures.h"
#include "controlplane/xds/virtual_service_set.h"

using namespace mesh;

namespace {

constexpr std::string_view kVirtualServices = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-wide, namespace: shop}
spec:
  hosts: ["*.shop.svc.cluster.local"]
  http: [{route: [{destination: {host: x}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b-narrow, namespace: shop}
spec:
  hosts: ["*.cart.shop.svc.cluster.local"]
  http: [{route: [{destination: {host: x}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c-exact, namespace: shop}
spec:
  hosts: [reviews, api.cart.shop.svc.cluster.local]
  http: [{route: [{destination: {host: x}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: d-exact-again, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http: [{route: [{destination: {host: x}}]}]
)";

std::string nameOf(const core::Resource* r) { return r ? std::string(r->name()) : "none"; }

std::vector<std::string> namesOf(const std::vector<const core::Resource*>& rs) {
  std::vector<std::string> out;
  for (const core::Resource* r : rs) out.push_back(nameOf(r));
  return out;
}

}  // namespace

TEST_CASE("claiming: the first exact host, else the longest wildcard") {
  auto snap = testing::snapshotFromYaml(kVirtualServices);
  xds::VirtualServiceSet set(*snap, snap->virtualServices("shop", "mesh"));
  REQUIRE(set.all().size() == 4);
  CHECK(set.hostsOf(2) == std::vector<std::string>{"reviews.shop.svc.cluster.local", "api.cart.shop.svc.cluster.local"});
  CHECK(nameOf(set.claiming("reviews.shop.svc.cluster.local")) == "c-exact");
  CHECK(nameOf(set.claiming("api.cart.shop.svc.cluster.local")) == "c-exact");
  CHECK(nameOf(set.claiming("web.cart.shop.svc.cluster.local")) == "b-narrow");
  CHECK(nameOf(set.claiming("ratings.shop.svc.cluster.local")) == "a-wide");
  CHECK(nameOf(set.claiming("ratings.other.svc.cluster.local")) == "none");
}

TEST_CASE("matching: every VirtualService either side of a wildcard, in snapshot order") {
  auto snap = testing::snapshotFromYaml(kVirtualServices);
  xds::VirtualServiceSet set(*snap, snap->virtualServices("shop", "mesh"));
  CHECK(namesOf(set.matching("api.cart.shop.svc.cluster.local")) ==
        std::vector<std::string>{"a-wide", "b-narrow", "c-exact"});
  CHECK(namesOf(set.matching("reviews.shop.svc.cluster.local")) ==
        std::vector<std::string>{"a-wide", "c-exact", "d-exact-again"});
  // A ServiceEntry host may be a wildcard itself: it matches the hosts it covers and the
  // wildcards covering it.
  CHECK(namesOf(set.matching("*.cart.shop.svc.cluster.local")) ==
        std::vector<std::string>{"a-wide", "b-narrow", "c-exact"});
  CHECK(set.matching("elsewhere.example.com").empty());
}
