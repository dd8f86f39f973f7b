#include "controlplane/server/xds_connection.h"

#include <doctest/doctest.h>

#include "controlplane/testing/fixtures.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace mesh::server {
namespace {

constexpr std::string_view kMesh = R"(
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: payments}
spec:
  hosts: [payments-api.payments.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: grpc, protocol: GRPC}]
  workloadSelector: {labels: {app: payments-api}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: payments-v1, namespace: payments}
spec: {address: 127.0.0.1, labels: {app: payments-api, version: v1}, ports: {grpc: 9001}}
)";

constexpr std::string_view kSecondEndpoint = R"(
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: payments-v2, namespace: payments}
spec: {address: 127.0.0.1, labels: {app: payments-api, version: v2}, ports: {grpc: 9002}}
)";

const std::string kCds(xds::type_url::kCluster);
const std::string kEds(xds::type_url::kEndpoint);

struct Harness {
  xds::GeneratorSet generators = xds::GeneratorSet::standard();
  NameTable names;
  std::vector<std::shared_ptr<const DiscoveryResponse>> sent;
  std::vector<std::shared_ptr<const DeltaDiscoveryResponse>> sentDelta;
  std::vector<std::string> nacks;
  std::unique_ptr<XdsConnection> conn;

  explicit Harness(bool delta) {
    ConnectionHooks hooks;
    hooks.send = [this](auto r) { sent.push_back(std::move(r)); };
    hooks.sendDelta = [this](auto r) { sentDelta.push_back(std::move(r)); };
    hooks.onNack = [this](const model::Proxy&, std::string_view, std::string_view m) { nacks.emplace_back(m); };
    conn = std::make_unique<XdsConnection>(7, testing::sidecarProxy("orders-1", "payments"), delta, generators,
                                           names, std::move(hooks));
  }
};

PushContext pushOf(std::string_view yaml, uint64_t version, std::set<std::string, std::less<>> affected = {}) {
  PushContext p;
  p.snapshot = testing::snapshotFromYaml(yaml, version);
  p.affectedTypes = std::move(affected);
  return p;
}

DiscoveryRequest request(const std::string& type, std::vector<std::string> names = {}, std::string nonce = "",
                         std::string version = "") {
  DiscoveryRequest r;
  r.set_type_url(type);
  for (auto& n : names) r.add_resource_names(n);
  r.set_response_nonce(std::move(nonce));
  r.set_version_info(std::move(version));
  return r;
}

std::vector<std::string> names(const DiscoveryResponse& r) {
  std::vector<std::string> out;
  for (const auto& any : r.resources()) {
    if (any.type_url() == xds::type_url::kCluster) {
      envoy::config::cluster::v3::Cluster c;
      REQUIRE(c.ParseFromString(any.value()));
      out.push_back(c.name());
    } else {
      envoy::config::endpoint::v3::ClusterLoadAssignment c;
      REQUIRE(c.ParseFromString(any.value()));
      out.push_back(c.cluster_name());
    }
  }
  return out;
}

const std::string kPaymentsCluster = "outbound|8080||payments-api.payments.svc.cluster.local";

TEST_CASE("SotW: wildcard CDS, ACK, unchanged push sends nothing, NACK recorded") {
  Harness h(false);
  PushContext p1 = pushOf(kMesh, 1);
  h.conn->onRequest(request(kCds), p1);
  REQUIRE(h.sent.size() == 1);
  auto cds = names(*h.sent[0]);
  CHECK(std::ranges::find(cds, kPaymentsCluster) != cds.end());
  CHECK(std::ranges::find(cds, "BlackHoleCluster") != cds.end());
  std::string nonce = h.sent[0]->nonce();
  CHECK(h.sent[0]->version_info() == "1");

  h.conn->onRequest(request(kCds, {}, nonce, "1"), p1);  // ACK
  CHECK(h.sent.size() == 1);
  auto st = h.conn->status().types.at(kCds);
  CHECK(st.ackedNonce == nonce);
  CHECK(st.snapshotAcked == 1);

  PushContext same = pushOf(kMesh, 2);
  h.conn->push(same);
  CHECK(h.sent.size() == 1);  // nothing changed for this proxy

  // A stale nonce is ignored; a NACK of the current one is recorded and not answered.
  h.conn->onRequest(request(kCds, {}, "stale", "0"), same);
  DiscoveryRequest nack = request(kCds, {}, nonce, "1");
  nack.mutable_error_detail()->set_code(3);
  nack.mutable_error_detail()->set_message("bad cluster");
  h.conn->onRequest(nack, same);
  CHECK(h.sent.size() == 1);
  REQUIRE(h.nacks.size() == 1);
  CHECK(h.conn->status().types.at(kCds).nackMessage == "bad cluster");
}

TEST_CASE("SotW: named EDS, endpoint-only push sends EDS alone") {
  Harness h(false);
  PushContext p1 = pushOf(kMesh, 1);
  h.conn->onRequest(request(kCds), p1);
  h.conn->onRequest(request(kCds, {}, h.sent.back()->nonce(), "1"), p1);
  h.conn->onRequest(request(kEds, {kPaymentsCluster}), p1);
  REQUIRE(h.sent.size() == 2);
  CHECK(names(*h.sent[1]) == std::vector<std::string>{kPaymentsCluster});
  h.conn->onRequest(request(kEds, {kPaymentsCluster}, h.sent[1]->nonce(), "1"), p1);

  PushContext p2 = pushOf(std::string(kMesh) + std::string(kSecondEndpoint), 2, {kEds});
  h.conn->push(p2);
  REQUIRE(h.sent.size() == 3);
  CHECK(h.sent[2]->type_url() == kEds);
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  REQUIRE(cla.ParseFromString(h.sent[2]->resources(0).value()));
  CHECK(cla.endpoints(0).lb_endpoints_size() == 2);
}

TEST_CASE("Delta: wildcard CDS sends everything once, then only changes and removals") {
  Harness h(true);
  PushContext p1 = pushOf(kMesh, 1);
  DeltaDiscoveryRequest first;
  first.set_type_url(kCds);
  h.conn->onDeltaRequest(first, p1);
  REQUIRE(h.sentDelta.size() == 1);
  size_t total = static_cast<size_t>(h.sentDelta[0]->resources_size());
  CHECK(total >= 4);
  DeltaDiscoveryRequest ack;
  ack.set_type_url(kCds);
  ack.set_response_nonce(h.sentDelta[0]->nonce());
  h.conn->onDeltaRequest(ack, p1);
  CHECK(h.conn->status().types.at(kCds).ackedNonce == h.sentDelta[0]->nonce());

  // A DestinationRule adds two subset clusters and changes nothing else.
  std::string withSubsets = std::string(kMesh) + R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: payments}
spec:
  host: payments-api.payments.svc.cluster.local
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
)";
  h.conn->push(pushOf(withSubsets, 2));
  REQUIRE(h.sentDelta.size() == 2);
  std::set<std::string> changed;
  for (const auto& r : h.sentDelta[1]->resources()) changed.insert(r.name());
  CHECK(changed.contains("outbound|8080|v1|payments-api.payments.svc.cluster.local"));
  CHECK(changed.contains("outbound|8080|v2|payments-api.payments.svc.cluster.local"));
  CHECK(h.sentDelta[1]->removed_resources_size() == 0);

  h.conn->push(pushOf(kMesh, 3));
  REQUIRE(h.sentDelta.size() == 3);
  // The base cluster's metadata no longer names the DestinationRule; the subsets are gone.
  REQUIRE(h.sentDelta[2]->resources_size() == 1);
  CHECK(h.sentDelta[2]->resources(0).name() == kPaymentsCluster);
  CHECK(h.sentDelta[2]->removed_resources_size() == 2);
}

TEST_CASE("Delta: resources the proxy already holds are not resent") {
  Harness first(true);
  PushContext p1 = pushOf(kMesh, 1);
  DeltaDiscoveryRequest sub;
  sub.set_type_url(kCds);
  first.conn->onDeltaRequest(sub, p1);
  DeltaDiscoveryRequest resume;
  resume.set_type_url(kCds);
  for (const auto& r : first.sentDelta[0]->resources()) (*resume.mutable_initial_resource_versions())[r.name()] = r.version();
  Harness second(true);
  second.conn->onDeltaRequest(resume, p1);
  REQUIRE(second.sentDelta.size() == 1);  // the initial wildcard request is always answered
  CHECK(second.sentDelta[0]->resources_size() == 0);
}

}  // namespace
}  // namespace mesh::server
