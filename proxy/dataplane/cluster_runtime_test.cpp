// Load balancing, priorities, panic mode, circuit-breaker guards and outlier detection.
#include <doctest/doctest.h>

#include <map>

#include "proxy/dataplane/cluster_runtime.h"

using namespace mesh::proxy::dataplane;

namespace {

std::shared_ptr<Cluster> cluster(LbPolicy policy, std::vector<std::pair<uint32_t, uint32_t>> weightsAndPriorities) {
  auto c = std::make_shared<Cluster>();
  c->name = "cluster";
  c->lbPolicy = policy;
  uint32_t port = 9000;
  for (auto [w, p] : weightsAndPriorities) {
    Endpoint e;
    e.address = "127.0.0.1";
    e.port = port++;
    e.weight = w;
    e.priority = p;
    c->endpoints.push_back(e);
  }
  return c;
}

std::map<uint32_t, int> spread(ClusterRuntime& rt, int n, const LbContext& ctx = {}) {
  std::map<uint32_t, int> out;
  for (int i = 0; i < n; ++i) {
    auto h = rt.chooseHost(ctx);
    REQUIRE(h);
    ++out[h->endpoint.port];
  }
  return out;
}

}  // namespace

TEST_CASE("round robin honours weights exactly") {
  ClusterRuntime rt(cluster(LbPolicy::RoundRobin, {{3, 0}, {1, 0}}));
  auto s = spread(rt, 400);
  CHECK(s[9000] == 300);
  CHECK(s[9001] == 100);
}

TEST_CASE("random and least request stay near the weights") {
  ClusterRuntime random(cluster(LbPolicy::Random, {{1, 0}, {1, 0}}));
  auto s = spread(random, 2000);
  CHECK(s[9000] > 800);
  CHECK(s[9001] > 800);
  ClusterRuntime least(cluster(LbPolicy::LeastRequest, {{1, 0}, {1, 0}}));
  auto busy = least.chooseHost({});
  busy->activeRequests = 100;
  int toBusy = 0;
  for (int i = 0; i < 200; ++i) toBusy += least.chooseHost({})->key == busy->key;
  // With two choices the busy host wins only when both picks land on it (about 1 in 4).
  CHECK(toBusy < 100);
}

TEST_CASE("ring hash and maglev: the same hash always picks the same host") {
  for (LbPolicy p : {LbPolicy::RingHash, LbPolicy::Maglev}) {
    ClusterRuntime rt(cluster(p, {{1, 0}, {1, 0}, {1, 0}}));
    LbContext ctx;
    std::map<uint32_t, int> seen;
    for (uint64_t user = 0; user < 60; ++user) {
      ctx.hash = stableHash("user-" + std::to_string(user));
      auto first = rt.chooseHost(ctx)->endpoint.port;
      for (int i = 0; i < 5; ++i) CHECK(rt.chooseHost(ctx)->endpoint.port == first);
      ++seen[first];
    }
    CHECK(seen.size() == 3);  // keys spread over every host
  }
}

TEST_CASE("priorities: level 0 first, spill over as it becomes unhealthy") {
  auto c = cluster(LbPolicy::RoundRobin, {{1, 0}, {1, 1}});
  ClusterRuntime rt(c);
  CHECK(spread(rt, 50)[9000] == 50);
  c->endpoints[0].health = HealthStatus::Unhealthy;
  rt.update(c);
  CHECK(spread(rt, 50)[9001] == 50);
}

TEST_CASE("no hosts: no healthy upstream; panic mode uses unhealthy hosts") {
  ClusterRuntime empty(cluster(LbPolicy::RoundRobin, {}));
  CHECK_FALSE(empty.chooseHost({}));
  auto c = cluster(LbPolicy::RoundRobin, {{1, 0}, {1, 0}});
  for (auto& e : c->endpoints) e.health = HealthStatus::Unhealthy;
  ClusterRuntime panic(c);
  CHECK(panic.chooseHost({}));
}

TEST_CASE("circuit-breaker guard refuses past the limit and releases") {
  std::atomic<uint32_t> counter{0};
  auto a = ResourceGuard::tryAcquire(counter, 2);
  auto b = ResourceGuard::tryAcquire(counter, 2);
  CHECK(a.has_value());
  CHECK(b.has_value());
  CHECK_FALSE(ResourceGuard::tryAcquire(counter, 2).has_value());
  b.reset();
  CHECK(counter == 1);
  CHECK(ResourceGuard::tryAcquire(counter, 2).has_value());
}

TEST_CASE("outlier detection: consecutive 5xx ejects for base time x ejections") {
  OutlierDetectionConfig cfg;
  cfg.consecutive5xx = 3;
  cfg.baseEjectionTime = Millis(1000);
  cfg.maxEjectionPercent = 50;
  OutlierDetector d(cfg);
  d.setHosts({"a", "b", "c", "d"});
  auto t0 = OutlierDetector::Clock::time_point{} + std::chrono::hours(1);
  CHECK_FALSE(d.onResult("a", 500, t0, 0));
  CHECK_FALSE(d.onResult("a", 200, t0, 0));  // a success resets the streak
  CHECK_FALSE(d.onResult("a", 500, t0, 0));
  CHECK_FALSE(d.onResult("a", 503, t0, 0));
  CHECK(d.onResult("a", 500, t0, 0));
  CHECK(d.isEjected("a", t0 + Millis(999)));
  CHECK_FALSE(d.isEjected("a", t0 + Millis(1000)));
  // Second ejection lasts twice as long.
  auto t1 = t0 + Millis(1500);
  for (int i = 0; i < 3; ++i) d.onResult("a", 500, t1, 0);
  CHECK(d.isEjected("a", t1 + Millis(1999)));
  CHECK_FALSE(d.isEjected("a", t1 + Millis(2000)));
}

TEST_CASE("outlier detection: max_ejection_percent, gateway failures, enforcement") {
  OutlierDetectionConfig cfg;
  cfg.consecutive5xx = 0;
  cfg.consecutiveGatewayFailure = 2;
  cfg.enforcingConsecutiveGatewayFailure = 100;
  cfg.maxEjectionPercent = 10;
  OutlierDetector d(cfg);
  d.setHosts({"a", "b", "c"});
  auto t = OutlierDetector::Clock::time_point{} + std::chrono::hours(1);
  d.onResult("a", 502, t, 0);
  CHECK(d.onResult("a", 504, t, 0));  // at least one host may always be ejected
  d.onResult("b", 503, t, 0);
  CHECK_FALSE(d.onResult("b", 503, t, 0));  // a second would exceed 10%
  CHECK(d.ejectedCount(t) == 1);
  d.onResult("c", 500, t, 0);
  CHECK_FALSE(d.onResult("c", 500, t, 0));  // 500 is not a gateway failure
  OutlierDetectionConfig off;
  off.consecutive5xx = 1;
  off.enforcingConsecutive5xx = 0;
  OutlierDetector never(off);
  never.setHosts({"x"});
  CHECK_FALSE(never.onResult("x", 500, t, 0));
}

TEST_CASE("ORIGINAL_DST picks the connection's original destination") {
  auto c = std::make_shared<Cluster>();
  c->type = ClusterType::OriginalDst;
  ClusterRuntime rt(c);
  LbContext ctx;
  ctx.originalDst = "10.1.2.3:8080";
  auto h = rt.chooseHost(ctx);
  REQUIRE(h);
  CHECK(h->endpoint.address == "10.1.2.3");
  CHECK(h->endpoint.port == 8080);
}

namespace {

// Hosts on ports 9000… in the given localities (name, locality weight, healthy?).
std::shared_ptr<Cluster> localities(std::vector<std::tuple<std::string, uint32_t, bool>> hosts, uint32_t priority = 0) {
  auto c = cluster(LbPolicy::RoundRobin, {});
  c->localityWeightedLb = true;
  uint32_t port = 9000;
  for (const auto& [locality, weight, healthy] : hosts) {
    Endpoint e;
    e.address = "127.0.0.1";
    e.port = port++;
    e.locality = locality;
    e.localityWeight = weight;
    e.priority = priority;
    e.health = healthy ? HealthStatus::Healthy : HealthStatus::Unhealthy;
    c->endpoints.push_back(e);
  }
  return c;
}

}  // namespace

TEST_CASE("locality weighted: a locality by its weight, then a host within it") {
  ClusterRuntime rt(localities({{"r/x/", 1, true}, {"r/x/", 1, true}, {"r/y/", 2, true}}));
  auto s = spread(rt, 300);
  CHECK(s[9000] + s[9001] == 100);
  CHECK(s[9000] == 50);
  CHECK(s[9002] == 200);
}

TEST_CASE("locality weighted: weight x availability with the 1.4 overprovisioning factor") {
  // Envoy's table: X (weight 1) at 50% healthy -> 70% available; Y (weight 2) fully healthy.
  // X gets 70 of every 270 picks.
  std::vector<std::tuple<std::string, uint32_t, bool>> hosts;
  for (int i = 0; i < 10; ++i) hosts.emplace_back("r/x/", 1, i < 5);
  hosts.emplace_back("r/y/", 2, true);
  ClusterRuntime rt(localities(hosts));
  auto s = spread(rt, 540);
  int toX = 0;
  for (uint32_t p = 9000; p < 9010; ++p) toX += s[p];
  CHECK(toX == 140);
  CHECK(s[9010] == 400);
  for (uint32_t p = 9005; p < 9010; ++p) CHECK(s[p] == 0);  // the unhealthy hosts of X

  // At 75% healthy X is still fully available (0.75 x 1.4 >= 1): one pick in three.
  hosts.clear();
  for (int i = 0; i < 4; ++i) hosts.emplace_back("r/x/", 1, i < 3);
  hosts.emplace_back("r/y/", 2, true);
  ClusterRuntime mostly(localities(hosts));
  s = spread(mostly, 300);
  CHECK(s[9004] == 200);
}

TEST_CASE("locality weighted: unweighted localities get nothing; off, hosts are balanced flat") {
  auto c = localities({{"r/x/", 0, true}, {"r/y/", 1, true}});
  ClusterRuntime weighted(c);
  CHECK(spread(weighted, 20)[9001] == 20);
  c->localityWeightedLb = false;
  ClusterRuntime flat(c);
  auto s = spread(flat, 20);
  CHECK(s[9000] == 10);
  CHECK(s[9001] == 10);
  // No locality with weight left at all: the priority's healthy hosts, as Envoy falls back to.
  ClusterRuntime none(localities({{"r/x/", 0, true}, {"r/y/", 0, true}}));
  CHECK(spread(none, 20)[9000] == 10);
}

TEST_CASE("locality failover by priority, as Istio emits it: the next priority's locality takes over") {
  auto c = localities({{"r/a/", 1, true}, {"r/a/", 1, true}});
  Endpoint b;
  b.address = "127.0.0.1";
  b.port = 9100;
  b.locality = "r/b/";
  b.localityWeight = 1;
  b.priority = 1;
  c->endpoints.push_back(b);
  ClusterRuntime rt(c);
  auto s = spread(rt, 40);
  CHECK(s[9100] == 0);
  for (auto& e : c->endpoints) {
    if (e.priority == 0) e.health = HealthStatus::Unhealthy;
  }
  rt.update(c);
  CHECK(spread(rt, 40)[9100] == 40);
}

TEST_CASE("DNS clusters: resolved addresses replace the name; LOGICAL_DNS uses the first") {
  auto c = cluster(LbPolicy::RoundRobin, {});
  c->type = ClusterType::StrictDns;
  Endpoint e;
  e.address = "backend.example";
  e.port = 8080;
  c->endpoints.push_back(e);
  e.address = "10.9.9.9";  // an IP literal needs no resolution
  c->endpoints.push_back(e);
  ClusterRuntime rt(c);
  CHECK(rt.dnsNames() == std::vector<std::string>{"backend.example"});
  CHECK(rt.hasUnresolvedNames());
  // Before the first answer the name itself (resolved when connecting).
  std::map<std::string, int> seen;
  for (int i = 0; i < 4; ++i) ++seen[rt.chooseHost({})->endpoint.address];
  CHECK(seen["backend.example"] == 2);

  rt.setResolved("backend.example", {"10.0.0.1", "10.0.0.2"});
  CHECK_FALSE(rt.hasUnresolvedNames());
  seen.clear();
  for (int i = 0; i < 6; ++i) {
    auto h = rt.chooseHost({});
    ++seen[h->endpoint.address];
    if (h->endpoint.address != "10.9.9.9") CHECK(h->endpoint.hostname == "backend.example");
  }
  CHECK(seen == std::map<std::string, int>{{"10.0.0.1", 2}, {"10.0.0.2", 2}, {"10.9.9.9", 2}});
  rt.setResolved("backend.example", {});  // a failed refresh keeps the last answer
  CHECK(rt.hostStatuses().size() == 3);
  rt.setResolved("backend.example", {"10.0.0.3"});
  CHECK(rt.hostStatuses().size() == 2);

  c->type = ClusterType::LogicalDns;
  c->endpoints.pop_back();
  rt.update(c);
  rt.setResolved("backend.example", {"10.0.0.4", "10.0.0.5"});
  auto hosts = rt.hostStatuses();
  REQUIRE(hosts.size() == 1);
  CHECK(hosts[0].endpoint.address == "10.0.0.4");
  CHECK(hosts[0].endpoint.key() == "10.0.0.4:8080");
}
