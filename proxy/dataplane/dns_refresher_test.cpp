// DnsRefresher: "localhost" resolved per dns_lookup_family, refreshes on dns_refresh_rate
// reaching the cluster's hosts (a counting resolver stands in for DNS there), and on loopback
// a STRICT_DNS cluster "localhost" served by the whole data plane.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/dns_refresher.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy::dataplane;

namespace {

std::shared_ptr<Cluster> dnsCluster(ClusterType type, const std::string& name, DnsLookupFamily family) {
  auto c = std::make_shared<Cluster>();
  c->name = "dns";
  c->type = type;
  c->dnsLookupFamily = family;
  Endpoint e;
  e.address = name;
  e.port = 8080;
  c->endpoints.push_back(e);
  return c;
}

// Polls until pred() holds (up to 10 s); the assertion is on the outcome, not the time.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

std::string firstAddress(ClusterRuntime& rt) {
  auto hosts = rt.hostStatuses();
  return hosts.empty() ? std::string() : hosts[0].endpoint.address;
}

}  // namespace

TEST_CASE("resolveName: localhost per lookup family") {
  auto v4 = resolveName("localhost", DnsLookupFamily::V4Only);
  REQUIRE(v4);
  CHECK(std::find(v4->begin(), v4->end(), "127.0.0.1") != v4->end());
  for (const auto& a : *v4) CHECK(a.find(':') == std::string::npos);
  auto preferred = resolveName("localhost", DnsLookupFamily::V4Preferred);
  REQUIRE(preferred);
  CHECK(preferred->front() == "127.0.0.1");
  auto all = resolveName("localhost", DnsLookupFamily::All);
  REQUIRE(all);
  CHECK(all->front() == "127.0.0.1");
  auto missing = resolveName("no-such-host.invalid", DnsLookupFamily::V4Only);  // RFC 6761: never resolves
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("no-such-host.invalid") != std::string::npos);
}

TEST_CASE("DnsRefresher: a STRICT_DNS cluster's hosts become localhost's addresses") {
  auto rt = std::make_shared<ClusterRuntime>(dnsCluster(ClusterType::StrictDns, "localhost", DnsLookupFamily::V4Only));
  CHECK(firstAddress(*rt) == "localhost");  // connected to by name until the first answer
  DnsRefresher refresher;
  refresher.watch(rt);
  REQUIRE(eventually([&] { return firstAddress(*rt) == "127.0.0.1"; }));
  auto host = rt->chooseHost({});
  REQUIRE(host);
  CHECK(host->endpoint.hostname == "localhost");
  CHECK(host->key == "127.0.0.1:8080");
}

TEST_CASE("DnsRefresher: refreshes on dns_refresh_rate; a failed lookup keeps the hosts") {
  std::atomic<int> calls{0};
  std::atomic<bool> failing{false}, unexpected{false};
  DnsRefresher refresher([&](const std::string& name, DnsLookupFamily family)
                             -> mesh::Result<std::vector<std::string>> {
    if (name != "backend.example" || family != DnsLookupFamily::Auto) unexpected = true;
    if (failing) return mesh::fail(mesh::ErrorCode::Unavailable, "resolving backend.example: timed out");
    int n = ++calls;
    return std::vector<std::string>{"10.0.0." + std::to_string(n)};
  });
  auto config = dnsCluster(ClusterType::LogicalDns, "backend.example", DnsLookupFamily::Auto);
  config->dnsRefreshRate = std::chrono::milliseconds(5);
  auto rt = std::make_shared<ClusterRuntime>(config);
  refresher.watch(rt);
  REQUIRE(eventually([&] { return calls >= 3; }));
  CHECK(eventually([&] { return firstAddress(*rt) != "10.0.0.1" && firstAddress(*rt).starts_with("10.0.0."); }));
  failing = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a lookup under way ends
  int before = calls;
  std::string kept = firstAddress(*rt);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(calls == before);
  CHECK(firstAddress(*rt) == kept);
  CHECK(rt->hostStatuses().size() == 1);

  // Watching again without new names does not resolve at once; a dropped runtime is forgotten.
  refresher.watch(rt);
  std::weak_ptr<ClusterRuntime> weak = rt;
  rt.reset();
  refresher.stop();
  CHECK(weak.expired());
  CHECK_FALSE(unexpected);
}

TEST_CASE("loopback DNS: a STRICT_DNS cluster on localhost, resolved off the workers") {
  testing::TestBackend backend("dns");
  DataPlane plane([] {
    DataPlaneOptions o;
    o.threads = 1;
    return o;
  }());
  auto snap = std::make_shared<mesh::proxy::XdsSnapshot>();
  auto c = testing::parseCluster(
      R"(name: "by-name" type: STRICT_DNS dns_lookup_family: V4_ONLY dns_refresh_rate { nanos: 50000000 }
         connect_timeout { seconds: 1 } load_assignment { cluster_name: "by-name" endpoints { lb_endpoints {
         endpoint { address { socket_address { address: "localhost" port_value: )" +
      std::to_string(backend.port()) + " } } } } } }");
  snap->clusters[c.name()].resource = c;
  auto l = testing::parseListener(R"(name: "http" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } route { cluster: "by-name" auto_host_rewrite { value: true } } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })");
  snap->listeners[l.name()].resource = l;
  auto applied = plane.apply(snap);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
  REQUIRE(plane.start().has_value());
  auto address = [&] {
    for (const auto& cs : plane.clusterStatuses()) {
      if (cs.name == "by-name" && cs.hosts.size() == 1) return cs.hosts[0].endpoint.address;
    }
    return std::string();
  };
  REQUIRE(eventually([&] { return address() == "127.0.0.1"; }));
  std::string url = "http://127.0.0.1:" + std::to_string(plane.boundPort("http").value_or(0)) + "/x";
  CHECK(testing::run("curl -s -m 10 -w ' %{http_code}' '" + url + "'") == "backend=dns path=/x body= 200");
  // auto_host_rewrite: the DNS name, as Envoy sends it, not the address.
  CHECK(backend.lastHeader("host") == "localhost");
  plane.stop();
}
