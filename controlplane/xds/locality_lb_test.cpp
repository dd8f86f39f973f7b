// Locality load balancing as Istio applies it to EDS (pilot/pkg/networking/core/loadbalancer):
// failover priorities by locality only with outlier detection, `failover` and
// `failoverPriority`, `distribute` weights, `enabled: false`; the proxy's locality from its
// workload; the cluster's locality_weighted_lb_config; and EDS sharing across proxies.
#include <doctest/doctest.h>

#include <map>

#include <fmt/format.h>

#include "controlplane/model/sidecar_scope.h"
#include "controlplane/testing/fixtures.h"
#include "controlplane/xds/cluster_generator.h"
#include "controlplane/xds/endpoint_generator.h"
#include "controlplane/xds/locality_lb.h"

using namespace mesh;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

namespace {

constexpr std::string_view kCluster = "outbound|8080||payments.shop.svc.cluster.local";

// payments has one endpoint in each of five localities; the client's WorkloadEntry puts it in
// r1/z1/s1. `trafficPolicy` is the DestinationRule's, or "" for no rule.
std::string meshYaml(std::string_view trafficPolicy, std::string_view clientLocality = "r1/z1/s1") {
  std::string out = R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: shop}
spec:
  hosts: [payments.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: payments}}
)";
  const std::pair<std::string_view, std::string_view> endpoints[] = {
      {"same", "r1/z1/s1"}, {"subzone", "r1/z1/s2"}, {"zone", "r1/z2/s1"}, {"region", "r2/z1/s1"}, {"far", "r3/z1/s1"}};
  int n = 1;
  for (auto [name, locality] : endpoints)
    out += fmt::format(R"(---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: payments-{0}, namespace: shop}}
spec: {{address: 10.0.0.{1}, locality: {2}, labels: {{app: payments, version: {3}}}}}
)",
                       name, n++, locality, name == "same" || name == "far" ? "v1" : "v2");
  if (!clientLocality.empty())
    out += fmt::format(R"(---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {{name: client, namespace: shop}}
spec: {{address: 10.0.1.1, locality: {0}, labels: {{app: client}}}}
)",
                       clientLocality);
  if (!trafficPolicy.empty())
    out += fmt::format(R"(---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: payments, namespace: shop}}
spec:
  host: payments.shop.svc.cluster.local
  trafficPolicy: {0}
)",
                       trafficPolicy);
  return out;
}

mesh::xds::ResourceNames namesOf(std::string_view cluster) {
  mesh::xds::ResourceNames names;
  names.wildcard = false;
  names.names = {std::string(cluster)};
  names.digest = 7;
  return names;
}

ClusterLoadAssignment edsFor(const model::ConfigSnapshot& snap, const model::Proxy& proxy,
                             mesh::xds::GenerationCache* cache = nullptr) {
  auto scope = model::SidecarScope::compute(snap, proxy);
  auto out = mesh::xds::EndpointGenerator().generateShared(mesh::xds::ProxyView{snap, proxy, scope, cache}, namesOf(kCluster));
  REQUIRE(out.resources->size() == 1);
  ClusterLoadAssignment cla;
  REQUIRE(cla.ParseFromString(*out.resources->front().body));
  return cla;
}

ClusterLoadAssignment edsFor(std::string_view yaml, model::Labels labels = {}) {
  auto snap = testing::snapshotFromYaml(yaml);
  REQUIRE(snap->skipped().empty());
  return edsFor(*snap, testing::sidecarProxy("client", "shop", std::move(labels)));
}

// endpoint address → the priority of its LocalityLbEndpoints
std::map<std::string, uint32_t> priorities(const ClusterLoadAssignment& cla) {
  std::map<std::string, uint32_t> out;
  for (const auto& g : cla.endpoints())
    for (const auto& lb : g.lb_endpoints()) out[lb.endpoint().address().socket_address().address()] = g.priority();
  return out;
}

// locality "region/zone/subzone" → (weight, endpoint count)
std::map<std::string, std::pair<uint32_t, int>> weights(const ClusterLoadAssignment& cla) {
  std::map<std::string, std::pair<uint32_t, int>> out;
  for (const auto& g : cla.endpoints())
    out[fmt::format("{}/{}/{}", g.locality().region(), g.locality().zone(), g.locality().sub_zone())] = {
        g.load_balancing_weight().value(), g.lb_endpoints_size()};
  return out;
}

envoy::config::cluster::v3::Cluster clusterFor(std::string_view yaml) {
  auto snap = testing::snapshotFromYaml(yaml);
  auto proxy = testing::sidecarProxy("client", "shop");
  auto scope = model::SidecarScope::compute(*snap, proxy);
  mesh::xds::ProxyView view{*snap, proxy, scope, nullptr};
  const model::Service* svc = snap->service("payments.shop.svc.cluster.local", "shop");
  REQUIRE(svc);
  return mesh::xds::buildOutboundCluster(view, *svc, svc->ports.front(), "", false);
}

constexpr std::string_view kOutlier = "{outlierDetection: {consecutive5xxErrors: 1}}";

}  // namespace

TEST_CASE("with outlier detection, endpoints get Istio's priorities by locality") {
  auto p = priorities(edsFor(meshYaml(kOutlier)));
  CHECK(p == std::map<std::string, uint32_t>{
                 {"10.0.0.1", 0}, {"10.0.0.2", 1}, {"10.0.0.3", 2}, {"10.0.0.4", 3}, {"10.0.0.5", 3}});
}

TEST_CASE("priorities are compacted: no gaps when a level has no endpoints") {
  // Seen from r2/z9: region r2 → 0 (Istio's 2), every other region → 1 (Istio's 3).
  auto p = priorities(edsFor(meshYaml(kOutlier, "r2/z9")));
  CHECK(p == std::map<std::string, uint32_t>{
                 {"10.0.0.1", 1}, {"10.0.0.2", 1}, {"10.0.0.3", 1}, {"10.0.0.4", 0}, {"10.0.0.5", 1}});
}

TEST_CASE("without outlier detection there are no failover priorities") {
  for (std::string_view policy : {std::string_view(""), std::string_view("{loadBalancer: {simple: ROUND_ROBIN}}"),
                                  std::string_view("{loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r3}]}}}")}) {
    CAPTURE(policy);
    for (const auto& [address, priority] : priorities(edsFor(meshYaml(policy)))) CHECK(priority == 0);
  }
}

TEST_CASE("localityLbSetting enabled: false turns locality failover off") {
  auto p = priorities(edsFor(meshYaml(
      "{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {enabled: false}}}")));
  for (const auto& [address, priority] : p) CHECK(priority == 0);
}

TEST_CASE("the mesh setting applies without a rule's own, and enabled: false there turns it off") {
  auto policyOf = [](const model::ConfigSnapshot& snap) {
    return mesh::xds::effectivePolicy(snap.ofKind("networking.istio.io", "DestinationRule").front(), 8080, "");
  };
  auto meshOff = testing::snapshotFromYaml(meshYaml("{loadBalancer: {localityLbSetting: {enabled: false}}}"));
  const core::Node* off = policyOf(*meshOff).loadBalancer->get("localityLbSetting");
  auto outlier = testing::snapshotFromYaml(meshYaml(kOutlier));
  CHECK(mesh::xds::localityLbPolicy(policyOf(*outlier)).failover());        // Istio's default: enabled
  CHECK_FALSE(mesh::xds::localityLbPolicy(policyOf(*outlier), off).active);  // the mesh turns it off
  // A rule's own setting wins over the mesh's.
  auto own = testing::snapshotFromYaml(meshYaml(
      "{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r3}]}}}"));
  CHECK(mesh::xds::localityLbPolicy(policyOf(*own), off).failover());
}

TEST_CASE("failover from the proxy's region sends other regions below the named one") {
  auto p = priorities(edsFor(meshYaml(
      "{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r3}]}}}")));
  // r3 keeps Istio's 3, r2 drops to 4: compacted to 3 and 4.
  CHECK(p == std::map<std::string, uint32_t>{
                 {"10.0.0.1", 0}, {"10.0.0.2", 1}, {"10.0.0.3", 2}, {"10.0.0.4", 4}, {"10.0.0.5", 3}});
  // A rule from another region does not apply.
  auto other = priorities(edsFor(meshYaml(
      "{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failover: [{from: r2, to: r3}]}}}")));
  CHECK(other.at("10.0.0.4") == 3);
  CHECK(other.at("10.0.0.5") == 3);
}

TEST_CASE("failoverPriority: endpoints matching the proxy's labels first, split within a locality") {
  // The proxy is version v1: endpoints "same" and "far" are v1 → priority 0, the rest 1,
  // whatever their locality (no `failover`, so no locality priorities).
  auto p = priorities(edsFor(
      meshYaml("{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failoverPriority: [version]}}}"),
      {{"version", "v1"}}));
  CHECK(p == std::map<std::string, uint32_t>{
                 {"10.0.0.1", 0}, {"10.0.0.2", 1}, {"10.0.0.3", 1}, {"10.0.0.4", 1}, {"10.0.0.5", 0}});
  // Topology labels come from the localities: same region first, then the rest.
  auto byRegion = priorities(edsFor(meshYaml(
      "{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failoverPriority: "
      "[topology.kubernetes.io/region, topology.kubernetes.io/zone]}}}")));
  CHECK(byRegion == std::map<std::string, uint32_t>{
                        {"10.0.0.1", 0}, {"10.0.0.2", 0}, {"10.0.0.3", 1}, {"10.0.0.4", 2}, {"10.0.0.5", 2}});
  // "label=value" compares with the given value instead of the proxy's.
  auto fixed = priorities(edsFor(
      meshYaml("{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failoverPriority: "
           "[version=v2]}}}"),
      {{"version", "v1"}}));
  CHECK(fixed == std::map<std::string, uint32_t>{
                     {"10.0.0.1", 1}, {"10.0.0.2", 0}, {"10.0.0.3", 0}, {"10.0.0.4", 0}, {"10.0.0.5", 1}});
}

TEST_CASE("failoverPriority with failover: label priorities first, localities within them") {
  auto p = priorities(edsFor(
      meshYaml("{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failoverPriority: "
           "[version], failover: [{from: r1, to: r3}]}}}"),
      {{"version", "v1"}}));
  // v1: same (0) then far (r3: 3); v2: subzone 1, zone 2, region r2 → 4 (not the failover target).
  CHECK(p == std::map<std::string, uint32_t>{
                 {"10.0.0.1", 0}, {"10.0.0.2", 2}, {"10.0.0.3", 3}, {"10.0.0.4", 4}, {"10.0.0.5", 1}});
}

TEST_CASE("distribute sets locality weights and empties localities it does not name") {
  auto cla = edsFor(meshYaml(R"({loadBalancer: {localityLbSetting: {distribute: [
      {from: r2/*, to: {r2/*: 100}},
      {from: r1/z1/*, to: {r1/z1/s1: 60, r1/*: 30, r2/z1/s1: 10}}]}}})"));
  auto w = weights(cla);
  CHECK(w["r1/z1/s1"] == std::pair<uint32_t, int>{60, 1});
  // r1/* matches two localities of weight 1 each: 30 split, rounded up.
  CHECK(w["r1/z1/s2"] == std::pair<uint32_t, int>{15, 1});
  CHECK(w["r1/z2/s1"] == std::pair<uint32_t, int>{15, 1});
  CHECK(w["r2/z1/s1"] == std::pair<uint32_t, int>{10, 1});
  CHECK(w["r3/z1/s1"].second == 0);  // no rule names r3
  for (const auto& [address, priority] : priorities(cla)) CHECK(priority == 0);  // distribute, not failover
}

TEST_CASE("the cluster gets locality_weighted_lb_config as Istio sets it") {
  CHECK_FALSE(clusterFor(meshYaml("")).common_lb_config().has_locality_weighted_lb_config());
  // Default failover with outlier detection: priorities only.
  CHECK_FALSE(clusterFor(meshYaml(kOutlier)).common_lb_config().has_locality_weighted_lb_config());
  CHECK(clusterFor(meshYaml("{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: "
                        "{failover: [{from: r1, to: r3}]}}}"))
            .common_lb_config()
            .has_locality_weighted_lb_config());
  // Failover rules without outlier detection do nothing.
  CHECK_FALSE(clusterFor(meshYaml("{loadBalancer: {localityLbSetting: {failover: [{from: r1, to: r3}]}}}"))
                  .common_lb_config()
                  .has_locality_weighted_lb_config());
  CHECK(clusterFor(meshYaml("{loadBalancer: {localityLbSetting: {distribute: [{from: '*', to: {'r1/*': 100}}]}}}"))
            .common_lb_config()
            .has_locality_weighted_lb_config());
  CHECK_FALSE(clusterFor(meshYaml("{loadBalancer: {localityLbSetting: {enabled: false, distribute: [{from: '*', to: "
                              "{'r1/*': 100}}]}}}"))
                  .common_lb_config()
                  .has_locality_weighted_lb_config());
}

TEST_CASE("the proxy's locality: its workload's, else its topology labels, else node.locality") {
  std::string yaml = meshYaml(kOutlier, "");  // no WorkloadEntry for the client
  auto snap = testing::snapshotFromYaml(yaml);
  // Topology labels.
  auto byLabels = testing::sidecarProxy("client", "shop",
                                        {{"topology.kubernetes.io/region", "r2"}, {"topology.kubernetes.io/zone", "z1"}});
  CHECK(priorities(edsFor(*snap, byLabels)).at("10.0.0.4") == 0);
  // istio-locality label (dots), as pilot-agent turns it into node.locality.
  auto byIstioLabel = testing::sidecarProxy("client", "shop", {{"istio-locality", "r1.z2.s1"}});
  CHECK(priorities(edsFor(*snap, byIstioLabel)).at("10.0.0.3") == 0);
  // node.locality.
  model::NodeInfo node;
  node.id = "sidecar~127.0.0.1~client.shop~shop.svc.cluster.local";
  node.locality = "r3/z1/s1";
  auto byNode = *model::Proxy::fromNode(node);
  CHECK(priorities(edsFor(*snap, byNode)).at("10.0.0.5") == 0);
  // The workload's own locality wins over the node's.
  auto withEntry = testing::snapshotFromYaml(meshYaml(kOutlier, "r1/z1/s2"));
  CHECK(priorities(edsFor(*withEntry, byNode)).at("10.0.0.2") == 0);
}

TEST_CASE("EDS is shared across localities unless a locality setting applies") {
  auto proxyIn = [](std::string_view region) {
    return testing::sidecarProxy("client", "shop", {{"topology.kubernetes.io/region", std::string(region)}});
  };
  auto shared = [&](std::string_view yaml, const model::Proxy& a, const model::Proxy& b) {
    auto snap = testing::snapshotFromYaml(yaml);
    mesh::xds::GenerationCache cache;
    auto gen = [&](const model::Proxy& p) {
      auto scope = model::SidecarScope::compute(*snap, p);
      return mesh::xds::EndpointGenerator().generateShared(mesh::xds::ProxyView{*snap, p, scope, &cache}, namesOf(kCluster));
    };
    return gen(a).resources == gen(b).resources;
  };
  std::string plain = meshYaml("", "");
  std::string failover = meshYaml(kOutlier, "");
  CHECK(shared(plain, proxyIn("r1"), proxyIn("r2")));
  CHECK_FALSE(shared(failover, proxyIn("r1"), proxyIn("r2")));
  CHECK(shared(failover, proxyIn("r1"), proxyIn("r1")));
  // failoverPriority labels split sharing by their values.
  std::string byVersion = meshYaml(
      "{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failoverPriority: [version]}}}", "");
  auto v = [](std::string_view version) {
    return testing::sidecarProxy("client", "shop", {{"version", std::string(version)}});
  };
  CHECK_FALSE(shared(byVersion, v("v1"), v("v2")));
  CHECK(shared(byVersion, v("v1"), v("v1")));
}
