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
