// compileSnapshot: valid config compiles into the runtime shape; NACK-worthy config fails
// with an error naming the resource and field.
#include <doctest/doctest.h>
#include <google/protobuf/text_format.h>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

TEST_CASE("compiler: routes, weighted clusters, retries, fault per route") {
  auto rc = testing::parseRoute(R"(
    name: "80"
    virtual_hosts {
      name: "svc"
      domains: ["svc.local", "svc.local:80", "*.wild.io", "pre.*"]
      routes {
        match { prefix: "/api" headers { name: "x-Canary" string_match { exact: "yes" } } }
        route {
          weighted_clusters {
            clusters { name: "v1" weight { value: 90 } }
            clusters { name: "v2" weight { value: 10 } }
          }
          timeout { seconds: 2 }
          retry_policy { retry_on: "5xx,connect-failure" num_retries { value: 3 } }
        }
        typed_per_filter_config {
          key: "envoy.filters.http.fault"
          value {
            [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {
              abort { http_status: 503 percentage { numerator: 50 } }
            }
          }
        }
      }
      routes { match { safe_regex { regex: "/r/[0-9]+" } } direct_response { status: 204 } }
    }
    virtual_hosts { name: "all" domains: ["*"] routes { match { prefix: "/" } route { cluster: "x" } } }
  )");
  auto compiled = compileRouteConfig(rc);
  REQUIRE(compiled.has_value());
  const RouteConfig& r = **compiled;
  CHECK(r.exactDomains.at("svc.local:80") == 0);
  CHECK(r.suffixDomains.at(0).first == ".wild.io");
  CHECK(r.prefixDomains.at(0).first == "pre.");
  CHECK(r.defaultHost == size_t{1});
  const Route& route = r.virtualHosts[0].routes[0];
  CHECK(route.match.headers.at(0).name == "x-canary");
  const auto& action = std::get<RouteAction>(route.action);
  CHECK(action.totalWeight == 100);
  CHECK(action.timeout == Millis(2000));
  CHECK(action.retryPolicy->numRetries == 3);
  CHECK(action.retryPolicy->retryOn == (kRetry5xx | kRetryConnectFailure));
  REQUIRE(route.fault);
  CHECK(route.fault->abort->httpStatus == 503);
  CHECK(route.fault->abort->fraction.perMillion == 500'000);
  CHECK(std::get<DirectResponse>(r.virtualHosts[0].routes[1].action).status == 204);
}

TEST_CASE("compiler: a bad regex is an error naming where it is") {
  auto rc = testing::parseRoute(R"(
    name: "bad"
    virtual_hosts { name: "v" domains: ["*"]
      routes { match { safe_regex { regex: "(unclosed" } } route { cluster: "c" } } })");
  auto compiled = compileRouteConfig(rc);
  REQUIRE_FALSE(compiled.has_value());
  CHECK(compiled.error().message.find("RouteConfiguration bad") != std::string::npos);
  CHECK(compiled.error().message.find("safe_regex") != std::string::npos);
}

TEST_CASE("compiler: duplicate domains and zero weights are refused") {
  auto dup = testing::parseRoute(R"(name: "d"
    virtual_hosts { name: "a" domains: ["x"] routes { match { prefix: "/" } route { cluster: "c" } } }
    virtual_hosts { name: "b" domains: ["x"] routes { match { prefix: "/" } route { cluster: "c" } } })");
  CHECK_FALSE(compileRouteConfig(dup).has_value());
  auto zero = testing::parseRoute(R"(name: "z"
    virtual_hosts { name: "a" domains: ["*"] routes { match { prefix: "/" } route {
      weighted_clusters { clusters { name: "a" weight { value: 0 } } } } } })");
  CHECK_FALSE(compileRouteConfig(zero).has_value());
}

TEST_CASE("compiler: clusters with endpoints, thresholds and outlier detection") {
  auto c = testing::parseCluster(R"(
    name: "outbound|80||svc" type: EDS eds_cluster_config { service_name: "svc-eds" }
    lb_policy: LEAST_REQUEST connect_timeout { nanos: 250000000 }
    circuit_breakers { thresholds { max_connections { value: 7 } max_retries { value: 1 } } }
    outlier_detection { consecutive_5xx { value: 2 } base_ejection_time { seconds: 1 } max_ejection_percent { value: 50 } }
  )");
  XdsSnapshot snap;
  snap.clusters[c.name()].resource = c;
  auto& cla = snap.endpoints["svc-eds"].resource;
  cla = testing::parseAssignment(R"(cluster_name: "svc-eds"
    endpoints { locality { zone: "z1" } lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 9000 } } } load_balancing_weight { value: 3 } }
                lb_endpoints { endpoint { address { socket_address { address: "127.0.0.2" port_value: 9000 } } } health_status: UNHEALTHY } }
    endpoints { priority: 1 lb_endpoints { endpoint { address { socket_address { address: "127.0.0.3" port_value: 9000 } } } } })");
  auto compiled = compileSnapshot(snap);
  REQUIRE(compiled.has_value());
  const Cluster& cl = *(*compiled)->clusters.at("outbound|80||svc");
  CHECK(cl.lbPolicy == LbPolicy::LeastRequest);
  CHECK(cl.connectTimeout == Millis(250));
  CHECK(cl.circuitBreakers.maxConnections == 7);
  CHECK(cl.circuitBreakers.maxRequests == 1024);
  CHECK(cl.circuitBreakers.maxRetries == 1);
  CHECK(cl.outlierDetection->consecutive5xx == 2);
  REQUIRE(cl.endpoints.size() == 3);
  CHECK(cl.endpoints[0].weight == 3);
  CHECK(cl.endpoints[0].locality == "/z1/");
  CHECK(cl.endpoints[1].health == HealthStatus::Unhealthy);
  CHECK(cl.endpoints[2].priority == 1);
}

TEST_CASE("compiler: unsupported cluster and listener features are NACKed") {
  auto custom = testing::parseCluster(R"(name: "c" cluster_type { name: "envoy.clusters.aggregate" })");
  auto r1 = compileCluster(custom, nullptr);
  REQUIRE_FALSE(r1.has_value());
  CHECK(r1.error().message.find("cluster_type") != std::string::npos);

  auto listener = testing::parseListener(R"(
    name: "l" address { socket_address { address: "127.0.0.1" port_value: 1 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "s" rds { route_config_name: "80" }
        http_filters { name: "envoy.filters.http.ext_authz" }
        http_filters { name: "envoy.filters.http.router" }
      } } } })");
  auto r2 = compileListener(listener);
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().message.find("ext_authz") != std::string::npos);
}

TEST_CASE("compiler: listeners with filter chain matches, HCM options and tcp_proxy") {
  auto listener = testing::parseListener(R"(
    name: "virtualInbound" address { socket_address { address: "0.0.0.0" port_value: 15006 } }
    use_original_dst { value: true }
    listener_filters { name: "envoy.filters.listener.http_inspector" }
    filter_chains {
      filter_chain_match { destination_port { value: 8080 } application_protocols: ["http/1.1"] }
      filters { name: "envoy.filters.network.http_connection_manager" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
          stat_prefix: "in" rds { route_config_name: "inbound|8080||" }
          normalize_path { value: true } merge_slashes: true use_remote_address { value: true }
          http_filters { name: "envoy.filters.http.fault" typed_config {
            [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {} } }
          http_filters { name: "envoy.filters.http.router" }
        } } } }
    filter_chains {
      filter_chain_match { prefix_ranges { address_prefix: "10.0.0.0" prefix_len { value: 8 } } }
      filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] {
          stat_prefix: "t" cluster: "PassthroughCluster" } } } })");
  auto compiled = compileListener(listener);
  REQUIRE_MESSAGE(compiled.has_value(), compiled.error().message);
  const Listener& l = **compiled;
  CHECK(l.useOriginalDst);
  CHECK(l.httpInspector);
  REQUIRE(l.filterChains.size() == 2);
  CHECK(l.filterChains[0]->match.destinationPort == 8080u);
  const auto& hcm = std::get<HttpConnectionManagerConfig>(l.filterChains[0]->filter);
  CHECK(hcm.rdsName == "inbound|8080||");
  CHECK(hcm.normalizePath);
  CHECK(hcm.mergeSlashes);
  CHECK(hcm.useRemoteAddress);
  CHECK(hcm.hasFaultFilter());
  CHECK(std::get<TcpProxyConfig>(l.filterChains[1]->filter).cluster == "PassthroughCluster");
  CHECK(l.filterChains[1]->match.prefixRanges[0].contains("10.1.2.3"));
  CHECK_FALSE(l.filterChains[1]->match.prefixRanges[0].contains("11.1.2.3"));
}

TEST_CASE("compiler: locality weights, overprovisioning factor, DNS refresh rate and lookup family") {
  auto c = testing::parseCluster(R"(
    name: "dns" type: STRICT_DNS dns_refresh_rate { seconds: 2 } dns_lookup_family: V4_PREFERRED
    common_lb_config { locality_weighted_lb_config {} }
    load_assignment { cluster_name: "dns" policy { overprovisioning_factor { value: 200 } }
      endpoints { locality { region: "r" zone: "a" } load_balancing_weight { value: 4 }
        lb_endpoints { endpoint { address { socket_address { address: "backend.example" port_value: 80 } } } } }
      endpoints { locality { region: "r" zone: "b" } priority: 1
        lb_endpoints { endpoint { address { socket_address { address: "backend.example" port_value: 81 } } } } } })");
  auto compiled = compileCluster(c, nullptr);
  REQUIRE_MESSAGE(compiled.has_value(), compiled.error().message);
  const Cluster& cl = **compiled;
  CHECK(cl.localityWeightedLb);
  CHECK(cl.overprovisioningFactor == 200);
  CHECK(cl.dnsRefreshRate == Millis(2000));
  CHECK(cl.dnsLookupFamily == DnsLookupFamily::V4Preferred);
  REQUIRE(cl.endpoints.size() == 2);
  CHECK(cl.endpoints[0].localityWeight == 4);
  CHECK(cl.endpoints[1].localityWeight == 0);  // unset: no traffic under locality weighting
  CHECK(cl.endpoints[1].priority == 1);

  // Defaults: 5 s, AUTO, 140, flat within a priority.
  auto plain = compileCluster(testing::parseCluster(R"(name: "p" type: LOGICAL_DNS load_assignment { cluster_name: "p"
    endpoints { lb_endpoints { endpoint { address { socket_address { address: "backend.example" port_value: 80 } } } } } })"),
                              nullptr);
  REQUIRE(plain.has_value());
  CHECK((*plain)->dnsRefreshRate == Millis(5000));
  CHECK((*plain)->dnsLookupFamily == DnsLookupFamily::Auto);
  CHECK((*plain)->overprovisioningFactor == 140);
  CHECK_FALSE((*plain)->localityWeightedLb);

  auto zeroRate = compileCluster(testing::parseCluster(R"(name: "z" type: STRICT_DNS dns_refresh_rate {})"), nullptr);
  REQUIRE_FALSE(zeroRate.has_value());
  CHECK(zeroRate.error().message.find("dns_refresh_rate") != std::string::npos);
}
