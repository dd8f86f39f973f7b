// RDS for sidecars: route configuration layout, virtual hosts and domains, default routes,
// weighted destinations, matches, retries and timeouts.
#include <doctest/doctest.h>

#include "controlplane/xds/route_test_support.h"

using namespace mesh;
using namespace mesh::xds;
using namespace mesh::xds::test;

namespace {

constexpr std::string_view kWeighted = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: split
    route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 10
)";

}  // namespace

TEST_CASE("sidecar route config per HTTP port: weighted 90/10, Istio domains, allow_any last") {
  Fixture f(withServices(kWeighted), proxyIn("default"));
  auto rc = f.routeConfig("9080");
  CHECK(rc.name() == "9080");
  CHECK_FALSE(rc.validate_clusters().value());
  REQUIRE(rc.virtual_hosts_size() == 2);
  const auto& vh = rc.virtual_hosts(0);
  CHECK(vh.name() == "reviews.default.svc.cluster.local:9080");
  std::vector<std::string> domains(vh.domains().begin(), vh.domains().end());
  CHECK(domains == std::vector<std::string>{"reviews.default.svc.cluster.local",
                                            "reviews.default.svc.cluster.local:9080", "reviews", "reviews:9080",
                                            "reviews.default.svc", "reviews.default.svc:9080", "reviews.default",
                                            "reviews.default:9080", "10.0.0.5", "10.0.0.5:9080"});
  REQUIRE(vh.routes_size() == 1);
  const auto& r = vh.routes(0);
  CHECK(r.name() == "split");
  CHECK(r.match().prefix() == "/");
  CHECK_FALSE(r.match().has_case_sensitive());  // no match: Istio leaves it unset
  const auto& wc = r.route().weighted_clusters();
  REQUIRE(wc.clusters_size() == 2);
  CHECK(wc.clusters(0).name() == "outbound|9080|v1|reviews.default.svc.cluster.local");
  CHECK(wc.clusters(0).weight().value() == 90);
  CHECK(wc.clusters(1).name() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  CHECK(wc.clusters(1).weight().value() == 10);
  // Istio's defaults: no timeout, mesh retry policy.
  CHECK(r.route().timeout().seconds() == 0);
  CHECK(r.route().has_timeout());
  CHECK(r.route().retry_policy().num_retries().value() == 2);
  CHECK(r.route().retry_policy().retry_on() ==
        "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
  CHECK(r.route().retry_policy().retriable_status_codes(0) == 503);
  CHECK(r.decorator().operation() == "reviews:9080/*");
  CHECK(r.metadata().filter_metadata().at("istio").fields().at("config").string_value() ==
        "/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews");
  const auto& any = rc.virtual_hosts(1);
  CHECK(any.name() == "allow_any");
  CHECK(any.domains(0) == "*");
  CHECK(any.routes(0).route().cluster() == "PassthroughCluster");
}

TEST_CASE("a service without VirtualService gets Istio's default route") {
  Fixture f(withServices(kWeighted), proxyIn("other"));
  auto rc = f.routeConfig("8080");
  const auto* vh = findVirtualHost(rc, "ratings.default.svc.cluster.local:8080");
  REQUIRE(vh);
  // From another namespace: no bare "ratings".
  CHECK(vh->domains(2) == "ratings.default");
  CHECK(std::ranges::find(vh->domains(), "ratings") == vh->domains().end());
  const auto& r = vh->routes(0);
  CHECK(r.name() == "default");
  CHECK(r.route().cluster() == "outbound|8080||ratings.default.svc.cluster.local");
  CHECK(r.route().retry_policy().retry_host_predicate(0).name() == "envoy.retry_host_predicates.previous_hosts");
  CHECK(r.route().retry_policy().host_selection_retry_max_attempts() == 5);
  CHECK_FALSE(r.match().has_case_sensitive());
  // Unknown names still get an answer, so Envoy does not wait for them.
  auto empty = f.routeConfig("not-a-port");
  CHECK(empty.virtual_hosts_size() == 0);
}

TEST_CASE("header match routes to subset v2, the rest to v1") {
  Fixture f(withServices(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - name: jason
    match:
    - name: by-user
      headers:
        end-user: {exact: jason}
        x-canary: {}
      withoutHeaders:
        x-skip: {prefix: "y"}
      uri: {prefix: /api}
      ignoreUriCase: true
      method: {exact: GET}
      queryParams:
        debug: {exact: "1"}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
)"),
            proxyIn("default"));
  auto rc = f.routeConfig("9080");
  const auto& vh = rc.virtual_hosts(0);
  REQUIRE(vh.routes_size() == 2);
  const auto& r = vh.routes(0);
  CHECK(r.name() == "jason.by-user");
  CHECK(r.match().prefix() == "/api");
  CHECK_FALSE(r.match().case_sensitive().value());
  REQUIRE(r.match().headers_size() == 4);
  CHECK(r.match().headers(0).name() == "end-user");
  CHECK(r.match().headers(0).string_match().exact() == "jason");
  CHECK(r.match().headers(1).name() == "x-canary");
  CHECK(r.match().headers(1).present_match());
  CHECK(r.match().headers(2).name() == "x-skip");
  CHECK(r.match().headers(2).invert_match());
  CHECK(r.match().headers(2).treat_missing_header_as_empty());
  CHECK(r.match().headers(2).string_match().prefix() == "y");
  CHECK(r.match().headers(3).name() == ":method");
  CHECK(r.match().query_parameters(0).name() == "debug");
  CHECK(r.match().query_parameters(0).string_match().exact() == "1");
  CHECK(r.route().cluster() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  CHECK(vh.routes(1).route().cluster() == "outbound|9080|v1|reviews.default.svc.cluster.local");
}

TEST_CASE("retries, timeouts and numeric retryOn codes") {
  Fixture f(withServices(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {exact: /no-retry}
    retries: {attempts: 0}
    route:
    - destination: {host: reviews}
  - timeout: 10s
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: gateway-error,connect-failure,503,unavailable
    route:
    - destination: {host: ratings}
)"),
            proxyIn("default"));
  auto rc = f.routeConfig("9080");
  const auto& vh = rc.virtual_hosts(0);
  REQUIRE(vh.routes_size() == 2);
  CHECK(vh.routes(0).match().path() == "/no-retry");
  CHECK_FALSE(vh.routes(0).route().has_retry_policy());
  const auto& action = vh.routes(1).route();
  // ratings has a single port: a destination without port uses it.
  CHECK(action.cluster() == "outbound|8080||ratings.default.svc.cluster.local");
  CHECK(action.timeout().seconds() == 10);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CHECK(action.max_grpc_timeout().seconds() == 10);  // Istio still sets the deprecated field
#pragma GCC diagnostic pop
  const auto& retry = action.retry_policy();
  CHECK(retry.num_retries().value() == 3);
  CHECK(retry.per_try_timeout().seconds() == 2);
  CHECK(retry.retry_on() == "gateway-error,connect-failure,unavailable,retriable-status-codes");
  REQUIRE(retry.retriable_status_codes_size() == 1);
  CHECK(retry.retriable_status_codes(0) == 503);
}

TEST_CASE("consistent hash from the DestinationRule becomes the route's hash policy") {
  Fixture f(withServices(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: x-user}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer:
        consistentHash:
          httpCookie: {name: session, ttl: 60s, path: /}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: default}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer:
      consistentHash: {useSourceIp: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {prefix: /v1}
    route:
    - destination: {host: reviews, subset: v1}
  - route:
    - destination: {host: reviews}
)"),
            proxyIn("default"));
  auto rc = f.routeConfig("9080");
  const auto& vh = rc.virtual_hosts(0);
  const auto& cookie = vh.routes(0).route().hash_policy(0).cookie();
  CHECK(cookie.name() == "session");
  CHECK(cookie.ttl().seconds() == 60);
  CHECK(cookie.path() == "/");
  const auto& r = vh.routes(1).route();
  CHECK(r.hash_policy(0).header().header_name() == "x-user");
  // Retries stay on the hashed host.
  CHECK(r.retry_policy().retry_host_predicate_size() == 0);
  auto ratings = f.routeConfig("8080");
  const auto* rvh = findVirtualHost(ratings, "ratings.default.svc.cluster.local:8080");
  REQUIRE(rvh);
  CHECK(rvh->routes(0).name() == "default");
  CHECK(rvh->routes(0).route().hash_policy(0).connection_properties().source_ip());
}

TEST_CASE("wildcard generation lists every HTTP port; route configs are memoized per scope") {
  Fixture f(withServices(kWeighted), proxyIn("default"));
  GenerationCache cache;
  f.cache = &cache;
  XdsResources all = RouteGenerator().generate(f.view(), ResourceNames{});
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "8080");
  CHECK(all[1].name == "9080");
  size_t entries = cache.size();
  XdsResources again = RouteGenerator().generate(f.view(), ResourceNames{});
  CHECK(cache.size() == entries);
  CHECK(again[1].body == all[1].body);  // the same shared bytes
}

TEST_CASE("a port's route config also routes services of unknown protocol on it, as Istio's sniffing") {
  Fixture f(withServices(R"(apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: default}
spec:
  clusterIP: 10.0.0.9
  ports: [{port: 8080, name: legacy}]
)"),
            proxyIn("default"));
  auto rc = f.routeConfig("8080");
  const auto* vh = findVirtualHost(rc, "legacy.default.svc.cluster.local:8080");
  REQUIRE(vh);
  CHECK(vh->routes(0).route().cluster() == "outbound|8080||legacy.default.svc.cluster.local");
  CHECK(findVirtualHost(rc, "ratings.default.svc.cluster.local:8080") != nullptr);
}

TEST_CASE("a sniffed host:port name gets that service alone, for every domain") {
  Fixture f(withServices(kWeighted), proxyIn("default"));
  auto rc = f.routeConfig("reviews.default.svc.cluster.local:9080");
  REQUIRE(rc.virtual_hosts_size() == 1);
  CHECK(rc.virtual_hosts(0).domains_size() == 1);
  CHECK(rc.virtual_hosts(0).domains(0) == "*");
  CHECK(rc.virtual_hosts(0).routes(0).name() == "split");
}

TEST_CASE("REGISTRY_ONLY Sidecar: block_all instead of allow_any") {
  Fixture f(withServices(R"(apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
)"),
            proxyIn("default"));
  auto rc = f.routeConfig("9080");
  const auto& last = rc.virtual_hosts(rc.virtual_hosts_size() - 1);
  CHECK(last.name() == "block_all");
  CHECK(last.routes(0).direct_response().status() == 502);
}

TEST_CASE("port 80 also serves hosts only a VirtualService knows") {
  Fixture f(R"(apiVersion: v1
kind: Service
metadata: {name: details, namespace: default}
spec:
  clusterIP: 10.0.0.7
  selector: {app: details}
  ports:
  - {name: http, port: 80}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: external, namespace: default}
spec:
  hosts: [bookinfo.com]
  http:
  - route:
    - destination: {host: details}
)",
            proxyIn("default"));
  auto rc = f.routeConfig("80");
  REQUIRE(rc.virtual_hosts_size() == 3);
  const auto* vh = findVirtualHost(rc, "bookinfo.com:80");
  REQUIRE(vh);
  CHECK(vh->domains(0) == "bookinfo.com");
  CHECK(vh->domains(1) == "bookinfo.com:80");
  CHECK(vh->routes(0).route().cluster() == "outbound|80||details.default.svc.cluster.local");
  CHECK(findVirtualHost(rc, "details.default.svc.cluster.local:80"));
  CHECK(rc.virtual_hosts(2).name() == "allow_any");
}
