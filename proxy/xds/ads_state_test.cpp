#include "proxy/xds/ads_state.h"

#include <doctest/doctest.h>

#include "proxy/xds/xds_test_resources.h"

namespace mesh::proxy {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryResponse;
using namespace testing;

// Records every candidate; rejects while `rejectWith` is set.
struct FakeConsumer : ConfigConsumer {
  std::vector<std::shared_ptr<const XdsSnapshot>> applied;
  std::string rejectWith;
  Result<void> apply(std::shared_ptr<const XdsSnapshot> candidate) override {
    if (!rejectWith.empty()) return fail(ErrorCode::InvalidInput, rejectWith);
    applied.push_back(std::move(candidate));
    return {};
  }
};

envoy::config::core::v3::Node testNode() {
  envoy::config::core::v3::Node n;
  n.set_id("sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local");
  return n;
}

template <class... M>
DiscoveryResponse sotw(std::string_view type, const std::string& version, const std::string& nonce, const M&... msgs) {
  DiscoveryResponse r;
  r.set_type_url(std::string(type));
  r.set_version_info(version);
  r.set_nonce(nonce);
  (r.add_resources()->PackFrom(msgs), ...);
  return r;
}

template <class M>
void addDelta(DeltaDiscoveryResponse& r, const std::string& name, const std::string& version, const M& msg) {
  auto* res = r.add_resources();
  res->set_name(name);
  res->set_version(version);
  res->mutable_resource()->PackFrom(msg);
}

std::vector<std::string> names(const auto& request) {
  return {request.resource_names().begin(), request.resource_names().end()};
}

struct Fixture {
  FakeConsumer consumer;
  AdsState state{testNode(), consumer, AdsState::Options{}};
};

}  // namespace

TEST_CASE("SotW: CDS, then EDS warms the cluster, then LDS, then RDS warms the listener") {
  Fixture f;
  AdsRequests start = f.state.startStream(false);
  REQUIRE(start.sotw.size() == 1);
  CHECK(start.sotw[0].type_url() == type_url::kCluster);
  CHECK(start.sotw[0].node().id() == testNode().id());
  CHECK(start.sotw[0].resource_names().empty());  // wildcard

  AdsRequests afterCds = f.state.onResponse(sotw(type_url::kCluster, "1", "n1", edsCluster("outbound|80||a")));
  // The EDS subscription goes out before the CDS ACK, as Envoy orders them; no LDS yet.
  REQUIRE(afterCds.sotw.size() == 2);
  CHECK(afterCds.sotw[0].type_url() == type_url::kEndpoint);
  CHECK(names(afterCds.sotw[0]) == std::vector<std::string>{"outbound|80||a"});
  CHECK(afterCds.sotw[1].type_url() == type_url::kCluster);
  CHECK(afterCds.sotw[1].response_nonce() == "n1");
  CHECK(afterCds.sotw[1].version_info() == "1");
  CHECK_FALSE(afterCds.sotw[1].has_error_detail());
  CHECK(f.state.view().active->clusters.empty());
  CHECK(f.state.view().warming->clusters.contains("outbound|80||a"));

  AdsRequests afterEds = f.state.onResponse(sotw(type_url::kEndpoint, "1", "n2", loadAssignment("outbound|80||a", 8080)));
  REQUIRE(afterEds.sotw.size() == 2);
  CHECK(afterEds.sotw[0].type_url() == type_url::kListener);  // clusters warm: LDS may start
  CHECK(afterEds.sotw[1].type_url() == type_url::kEndpoint);
  CHECK(afterEds.sotw[1].response_nonce() == "n2");
  CHECK(f.state.view().active->clusters.contains("outbound|80||a"));
  CHECK(f.state.view().warming->clusters.empty());
  CHECK_FALSE(f.state.initialized());

  AdsRequests afterLds = f.state.onResponse(sotw(type_url::kListener, "1", "n3", httpListener("l1", 15001, "80")));
  REQUIRE(afterLds.sotw.size() == 2);
  CHECK(afterLds.sotw[0].type_url() == type_url::kRoute);
  CHECK(names(afterLds.sotw[0]) == std::vector<std::string>{"80"});
  CHECK(f.state.view().warming->listeners.contains("l1"));
  CHECK_FALSE(f.state.initialized());

  AdsRequests afterRds = f.state.onResponse(sotw(type_url::kRoute, "1", "n4", routeConfig("80", "outbound|80||a")));
  REQUIRE(afterRds.sotw.size() == 1);
  CHECK(afterRds.sotw[0].type_url() == type_url::kRoute);
  CHECK(f.state.initialized());
  auto snap = f.state.view().active;
  CHECK(snap->listeners.contains("l1"));
  CHECK(snap->routes.contains("80"));
  CHECK(snap->typeVersions.at(std::string(type_url::kRoute)) == "1");
  CHECK(f.consumer.applied.back() == snap);
  auto stats = f.state.stats();
  CHECK(stats.types.at(std::string(type_url::kCluster)).updateSuccess == 1);
  CHECK(stats.connected);
}

TEST_CASE("SotW: an invalid resource is NACKed with the reason and the previous version; the snapshot stays") {
  Fixture f;
  f.state.startStream(false);
  f.state.onResponse(sotw(type_url::kCluster, "1", "n1", staticCluster("s", 9000)));
  auto before = f.state.view().active;
  REQUIRE(before->clusters.contains("s"));
  auto bad = staticCluster("t", 9001);
  bad.mutable_connect_timeout()->set_seconds(0);
  AdsRequests out = f.state.onResponse(sotw(type_url::kCluster, "2", "n2", staticCluster("s", 9000), bad));
  REQUIRE(out.sotw.size() == 1);
  const auto& nack = out.sotw[0];
  CHECK(nack.response_nonce() == "n2");
  CHECK(nack.version_info() == "1");
  REQUIRE(nack.has_error_detail());
  CHECK(nack.error_detail().code() == 3);
  CHECK(nack.error_detail().message().find("connect_timeout") != std::string::npos);
  CHECK(f.state.view().active == before);
  auto stats = f.state.stats();
  CHECK(stats.types.at(std::string(type_url::kCluster)).updateRejected == 1);
  CHECK(stats.types.at(std::string(type_url::kCluster)).updateAttempt == 2);
  CHECK(stats.lastNack.find("connect_timeout") != std::string::npos);
}

TEST_CASE("SotW: the consumer's rejection is a NACK and the last good snapshot is kept") {
  Fixture f;
  f.state.startStream(false);
  f.state.onResponse(sotw(type_url::kCluster, "1", "n1", staticCluster("s", 9000)));
  auto good = f.state.view().active;
  f.consumer.rejectWith = "the data plane cannot use this";
  AdsRequests out = f.state.onResponse(sotw(type_url::kCluster, "2", "n2", staticCluster("other", 9001)));
  REQUIRE(out.sotw.size() == 1);
  CHECK(out.sotw[0].error_detail().message() == "the data plane cannot use this");
  CHECK(f.state.view().active == good);
  f.consumer.rejectWith.clear();
  out = f.state.onResponse(sotw(type_url::kCluster, "3", "n3", staticCluster("other", 9001)));
  CHECK_FALSE(out.sotw.back().has_error_detail());
  CHECK(f.state.view().active->clusters.contains("other"));
  CHECK_FALSE(f.state.view().active->clusters.contains("s"));  // absent from a full CDS set: removed
}

TEST_CASE("A regex over Envoy's RE2 program size limit is NACKed, as Envoy does") {
  Fixture f;
  f.state.startStream(false);
  f.state.onResponse(sotw(type_url::kCluster, "1", "n1", staticCluster("s", 9000)));
  f.state.onResponse(sotw(type_url::kListener, "1", "n2", httpListener("l1", 15001, "80")));
  std::string big = "^/(alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa)/v[0-9]+/items/[a-z0-9-]{1,64}$";
  AdsRequests out = f.state.onResponse(sotw(type_url::kRoute, "1", "n3", routeConfig("80", "s", big)));
  REQUIRE(out.sotw.size() == 1);
  REQUIRE(out.sotw[0].has_error_detail());
  CHECK(out.sotw[0].error_detail().message().find("program size") != std::string::npos);
  CHECK(f.state.view().warming->listeners.contains("l1"));
  out = f.state.onResponse(sotw(type_url::kRoute, "2", "n4", routeConfig("80", "s", "^/items/[0-9]+$")));
  CHECK_FALSE(out.sotw.back().has_error_detail());
  CHECK(f.state.initialized());
}

TEST_CASE("An Any of a type outside the Envoy API is NACKed; an extension of the API is accepted") {
  Fixture f;
  f.state.startStream(false);
  auto c = staticCluster("s", 9000);
  auto* opts = &(*c.mutable_typed_extension_protocol_options())["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
  opts->set_type_url("type.googleapis.com/example.NotAnEnvoyType");
  AdsRequests out = f.state.onResponse(sotw(type_url::kCluster, "1", "n1", c));
  REQUIRE(out.sotw.back().has_error_detail());
  CHECK(out.sotw.back().error_detail().message().find("example.NotAnEnvoyType") != std::string::npos);

  // PreviousHostsPredicate is not compiled into mesh_envoy_api but is part of Envoy's API.
  auto rc = routeConfig("80", "s");
  auto* pred = rc.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_route()->mutable_retry_policy()
                   ->add_retry_host_predicate();
  pred->set_name("envoy.retry_host_predicates.previous_hosts");
  pred->mutable_typed_config()->set_type_url(
      "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate");
  f.state.onResponse(sotw(type_url::kCluster, "1", "n2", staticCluster("s", 9000)));
  f.state.onResponse(sotw(type_url::kListener, "1", "n3", httpListener("l1", 15001, "80")));
  out = f.state.onResponse(sotw(type_url::kRoute, "1", "n4", rc));
  CHECK_FALSE(out.sotw.back().has_error_detail());
}

TEST_CASE("SotW: a cluster leaving the CDS set drops its endpoints and its EDS subscription") {
  Fixture f;
  f.state.startStream(false);
  f.state.onResponse(sotw(type_url::kCluster, "1", "n1", edsCluster("a"), edsCluster("b")));
  f.state.onResponse(sotw(type_url::kEndpoint, "1", "n2", loadAssignment("a", 1), loadAssignment("b", 2)));
  REQUIRE(f.state.view().active->endpoints.size() == 2);
  AdsRequests out = f.state.onResponse(sotw(type_url::kCluster, "2", "n3", edsCluster("a")));
  REQUIRE(out.sotw.size() == 2);
  CHECK(out.sotw[0].type_url() == type_url::kEndpoint);
  CHECK(names(out.sotw[0]) == std::vector<std::string>{"a"});
  CHECK(out.sotw[0].response_nonce() == "n2");  // the latest EDS nonce, so the server does not drop it
  auto snap = f.state.view().active;
  CHECK(snap->clusters.size() == 1);
  CHECK(snap->endpoints.size() == 1);
  CHECK(snap->endpoints.contains("a"));
}

TEST_CASE("Delta: subscriptions, per-resource versions, removals and a resumed stream") {
  Fixture f;
  AdsRequests start = f.state.startStream(true);
  REQUIRE(start.delta.size() == 1);
  CHECK(start.delta[0].type_url() == type_url::kCluster);
  CHECK(start.delta[0].node().id() == testNode().id());
  CHECK(start.delta[0].resource_names_subscribe().empty());

  DeltaDiscoveryResponse cds;
  cds.set_type_url(std::string(type_url::kCluster));
  cds.set_system_version_info("7");
  cds.set_nonce("d1");
  addDelta(cds, "a", "va", edsCluster("a"));
  addDelta(cds, "s", "vs", staticCluster("s", 9000));
  AdsRequests out = f.state.onDeltaResponse(cds);
  REQUIRE(out.delta.size() == 2);
  CHECK(out.delta[0].type_url() == type_url::kEndpoint);
  REQUIRE(out.delta[0].resource_names_subscribe_size() == 1);
  CHECK(out.delta[0].resource_names_subscribe(0) == "a");
  CHECK(out.delta[1].response_nonce() == "d1");
  CHECK(f.state.view().active->clusters.at("s").version == "vs");

  // The load assignment does not exist: the server says it is removed, the cluster warms empty.
  DeltaDiscoveryResponse eds;
  eds.set_type_url(std::string(type_url::kEndpoint));
  eds.set_nonce("d2");
  eds.add_removed_resources(std::string("a"));
  out = f.state.onDeltaResponse(eds);
  CHECK(f.state.view().active->clusters.contains("a"));
  REQUIRE(out.delta.size() == 2);
  CHECK(out.delta[0].type_url() == type_url::kListener);

  DeltaDiscoveryResponse removal;
  removal.set_type_url(std::string(type_url::kCluster));
  removal.set_nonce("d3");
  removal.add_removed_resources(std::string("a"));
  out = f.state.onDeltaResponse(removal);
  CHECK_FALSE(f.state.view().active->clusters.contains("a"));
  REQUIRE(out.delta.size() == 2);
  CHECK(out.delta[0].type_url() == type_url::kEndpoint);
  REQUIRE(out.delta[0].resource_names_unsubscribe_size() == 1);
  CHECK(out.delta[0].resource_names_unsubscribe(0) == "a");

  // A NACK names the nonce and carries the reason.
  DeltaDiscoveryResponse bad;
  bad.set_type_url(std::string(type_url::kCluster));
  bad.set_nonce("d4");
  bad.add_resources()->set_name("nobody");
  out = f.state.onDeltaResponse(bad);
  REQUIRE(out.delta.size() == 1);
  CHECK(out.delta[0].response_nonce() == "d4");
  CHECK(out.delta[0].error_detail().message().find("no body") != std::string::npos);

  f.state.streamEnded();
  CHECK_FALSE(f.state.stats().connected);
  AdsRequests resumed = f.state.startStream(true);
  REQUIRE(resumed.delta.size() == 2);  // CDS, then LDS (already requested once); no EDS names left
  CHECK(resumed.delta[0].node().id() == testNode().id());
  CHECK(resumed.delta[0].initial_resource_versions().at("s") == "vs");
  CHECK(resumed.delta[1].type_url() == type_url::kListener);
  CHECK(f.state.view().active->clusters.contains("s"));  // kept across the reconnect
}

TEST_CASE("The initial fetch timeout lets a cluster whose EDS never comes go active") {
  FakeConsumer consumer;
  AdsState state(testNode(), consumer, AdsState::Options{std::chrono::milliseconds(10)});
  state.startStream(false);
  state.onResponse(sotw(type_url::kCluster, "1", "n1", edsCluster("a")));
  CHECK(state.onTick(std::chrono::steady_clock::now()).empty());
  AdsRequests out = state.onTick(std::chrono::steady_clock::now() + std::chrono::seconds(1));
  REQUIRE(out.sotw.size() == 1);
  CHECK(out.sotw[0].type_url() == type_url::kListener);
  CHECK(state.view().active->clusters.contains("a"));
}

}  // namespace mesh::proxy
