// Endpoint-only pushes patch the previous push's EDS results (GenerationCache::carryFrom):
// the patched result must equal a fresh build, with only the moved host's assignment new.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/testing/fixtures.h"
#include "controlplane/xds/endpoint_generator.h"

using namespace mesh;

namespace {

std::string shopMesh(std::string_view paymentsAddress) {
  std::string out;
  for (std::string_view svc : {"payments", "orders", "ledger"})
    out += fmt::format(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: {0}, namespace: shop}}
spec:
  hosts: [{0}.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{{number: 8080, name: http, protocol: HTTP}}]
  workloadSelector: {{labels: {{app: {0}}}}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: {0}-1, namespace: shop}}
spec: {{address: {1}, labels: {{app: {0}}}}}
---
)",
                       svc, svc == "payments" ? paymentsAddress : "10.0.0.9");
  return out;
}

xds::GeneratedResources edsFor(const model::ConfigSnapshot& snap, xds::GenerationCache* cache,
                               const xds::ResourceNames& names) {
  auto proxy = testing::sidecarProxy("client", "shop");
  auto scope = model::SidecarScope::compute(snap, proxy);
  return xds::EndpointGenerator().generateShared(xds::ProxyView{snap, proxy, scope, cache}, names);
}

}  // namespace

TEST_CASE("an endpoint-only push patches the changed host and keeps the rest") {
  auto before = testing::snapshotFromYaml(shopMesh("10.0.0.1"), 1);
  auto after = testing::snapshotFromYaml(shopMesh("10.0.0.2"), 2);
  xds::ResourceNames names;
  names.wildcard = false;
  names.names = {"outbound|8080||ledger.shop.svc.cluster.local", "outbound|8080||orders.shop.svc.cluster.local",
                 "outbound|8080||payments.shop.svc.cluster.local"};
  names.digest = 42;

  xds::GenerationCache first;
  auto old = edsFor(*before, &first, names);
  REQUIRE(old.shared);
  REQUIRE(old.resources->size() == 3);

  auto changed = after->registry().hostsWithChangedEndpoints(before->registry());
  CHECK(changed == std::set<std::string, std::less<>>{"payments.shop.svc.cluster.local"});

  xds::GenerationCache second;
  second.carryFrom(first, xds::EndpointGenerator::kSetKeyPrefix, changed);
  auto patched = edsFor(*after, &second, names);
  auto fresh = edsFor(*after, nullptr, names);
  REQUIRE(patched.resources->size() == fresh.resources->size());
  for (size_t i = 0; i < fresh.resources->size(); ++i) {
    const auto& p = (*patched.resources)[i];
    const auto& f = (*fresh.resources)[i];
    CHECK(p.name == f.name);
    CHECK(p.hash == f.hash);
    CHECK(*p.body == *f.body);
    // Unchanged hosts keep the very same serialized body; the moved one is rebuilt.
    bool moved = p.name.find("payments") != std::string::npos;
    CHECK((p.body == (*old.resources)[i].body) == !moved);
  }
}
