// HTTPRoute features beyond plain routing: fault injection, mirroring, CORS, redirects,
// rewrites, header operations, direct responses, sourceLabels and delegation.
#include <doctest/doctest.h>

#include "controlplane/xds/route_filters.h"
#include "controlplane/xds/route_test_support.h"

using namespace mesh;
using namespace mesh::xds;
using namespace mesh::xds::test;
using envoy::config::route::v3::Route;

namespace {

std::string vs(std::string_view http) {
  return withServices(std::string(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
)") + std::string(http));
}

std::vector<Route> reviewsRoutes(const Fixture& f) {
  auto rc = f.routeConfig("9080");
  const auto* vh = findVirtualHost(rc, "reviews.default.svc.cluster.local:9080");
  REQUIRE(vh);
  return {vh->routes().begin(), vh->routes().end()};
}

}  // namespace

TEST_CASE("fault: 0.1% delay and 50% abort as per-million fractions on the fault filter") {
  Fixture f(vs(R"(  - fault:
      delay:
        fixedDelay: 5s
        percentage: {value: 0.1}
      abort:
        httpStatus: 500
        percentage: {value: 50}
    route:
    - destination: {host: reviews}
)"),
            proxyIn("default"));
  auto routes = reviewsRoutes(f);
  const auto& cfg = routes[0].typed_per_filter_config();
  REQUIRE(cfg.contains("envoy.filters.http.fault"));
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  REQUIRE(cfg.at("envoy.filters.http.fault").UnpackTo(&fault));
  CHECK(fault.delay().fixed_delay().seconds() == 5);
  CHECK(fault.delay().percentage().numerator() == 1000);
  CHECK(fault.delay().percentage().denominator() == envoy::type::v3::FractionalPercent::MILLION);
  CHECK(fault.abort().http_status() == 500);
  CHECK(fault.abort().percentage().numerator() == 500000);
}

TEST_CASE("fault: gRPC status aborts by name") {
  Fixture f(vs(R"(  - fault:
      abort:
        grpcStatus: UNAVAILABLE
        percentage: {value: 100}
    route:
    - destination: {host: reviews}
)"),
            proxyIn("default"));
  envoy::extensions::filters::http::fault::v3::HTTPFault fault;
  REQUIRE(reviewsRoutes(f)[0].typed_per_filter_config().at("envoy.filters.http.fault").UnpackTo(&fault));
  CHECK(fault.abort().grpc_status() == 14);
  CHECK_FALSE(fault.has_delay());
}

TEST_CASE("mirror with mirrorPercentage, and mirrors, become request_mirror_policies") {
  Fixture f(vs(R"(  - route:
    - destination: {host: reviews, subset: v1}
    match:
    - uri: {prefix: /one}
    mirror: {host: ratings}
    mirrorPercentage: {value: 25}
  - route:
    - destination: {host: reviews, subset: v1}
    mirrors:
    - destination: {host: reviews, subset: v3}
      percentage: {value: 5.5}
    - destination: {host: reviews, subset: v4}
)"),
            proxyIn("default"));
  auto routes = reviewsRoutes(f);
  REQUIRE(routes.size() == 2);
  const auto& single = routes[0].route();
  REQUIRE(single.request_mirror_policies_size() == 1);
  const auto& m = single.request_mirror_policies(0);
  CHECK(m.cluster() == "outbound|8080||ratings.default.svc.cluster.local");
  CHECK(m.runtime_fraction().default_value().numerator() == 250000);
  CHECK(m.runtime_fraction().default_value().denominator() == envoy::type::v3::FractionalPercent::MILLION);
  CHECK_FALSE(m.trace_sampled().value());
  const auto& action = routes[1].route();
  REQUIRE(action.request_mirror_policies_size() == 2);
  CHECK(action.request_mirror_policies(0).cluster() == "outbound|9080|v3|reviews.default.svc.cluster.local");
  CHECK(action.request_mirror_policies(0).runtime_fraction().default_value().numerator() == 55000);
  // No percentage: everything, as Istio's default.
  CHECK(action.request_mirror_policies(1).runtime_fraction().default_value().numerator() == 100);
  CHECK(action.request_mirror_policies(1).runtime_fraction().default_value().denominator() ==
        envoy::type::v3::FractionalPercent::HUNDRED);
}

TEST_CASE("corsPolicy becomes the cors filter's per-route policy") {
  Fixture f(vs(R"(  - corsPolicy:
      allowOrigins:
      - exact: https://example.com
      - prefix: https://dev.
      - regex: "https://.*\\.example\\.org"
      allowMethods: [GET, POST]
      allowHeaders: [x-a, x-b]
      exposeHeaders: [x-c]
      maxAge: 24h
      allowCredentials: true
    route:
    - destination: {host: reviews}
)"),
            proxyIn("default"));
  envoy::extensions::filters::http::cors::v3::CorsPolicy cors;
  REQUIRE(reviewsRoutes(f)[0].typed_per_filter_config().at("envoy.filters.http.cors").UnpackTo(&cors));
  REQUIRE(cors.allow_origin_string_match_size() == 3);
  CHECK(cors.allow_origin_string_match(0).exact() == "https://example.com");
  CHECK(cors.allow_origin_string_match(1).prefix() == "https://dev.");
  CHECK(cors.allow_origin_string_match(2).safe_regex().regex() == "https://.*\\.example\\.org");
  CHECK(cors.allow_methods() == "GET,POST");
  CHECK(cors.allow_headers() == "x-a,x-b");
  CHECK(cors.expose_headers() == "x-c");
  CHECK(cors.max_age() == "86400");
  CHECK(cors.allow_credentials().value());
  CHECK(cors.filter_enabled().default_value().numerator() == 100);
  CHECK(cors.forward_not_matching_preflights().value());
}

TEST_CASE("redirect, rewrite, header operations and direct response") {
  Fixture f(vs(R"(  - match:
    - uri: {exact: /old}
    redirect:
      uri: /new
      authority: new.example.com
      redirectCode: 302
      derivePort: FROM_REQUEST_PORT
  - match:
    - uri: {prefix: /gone}
    directResponse:
      status: 503
      body: {string: "unavailable"}
  - match:
    - uri: {regex: "^/v[0-9]+/.*"}
    rewrite:
      uriRegexRewrite: {match: "^/v[0-9]+/", rewrite: /}
    route:
    - destination: {host: reviews}
  - headers:
      request:
        set: {x-b: "2", x-a: "1"}
        add: {x-c: "3"}
        remove: [x-d]
      response:
        set: {x-e: "5"}
    rewrite: {uri: /prefix, authority: reviews.internal}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 80
      headers:
        request:
          set: {x-weight: v1}
    - destination: {host: reviews, subset: v2}
      weight: 20
)"),
            proxyIn("default"));
  auto routes = reviewsRoutes(f);
  REQUIRE(routes.size() == 4);
  const auto& redirect = routes[0].redirect();
  CHECK(redirect.path_redirect() == "/new");
  CHECK(redirect.host_redirect() == "new.example.com");
  CHECK(redirect.response_code() == envoy::config::route::v3::RedirectAction::FOUND);
  CHECK(redirect.port_redirect() == 9080);
  CHECK(routes[1].direct_response().status() == 503);
  CHECK(routes[1].direct_response().body().inline_string() == "unavailable");
  CHECK(routes[2].match().safe_regex().regex() == "^/v[0-9]+/.*");
  CHECK(routes[2].route().regex_rewrite().pattern().regex() == "^/v[0-9]+/");
  CHECK(routes[2].route().regex_rewrite().substitution() == "/");
  const Route& r = routes[3];
  REQUIRE(r.request_headers_to_add_size() == 3);
  CHECK(r.request_headers_to_add(0).header().key() == "x-a");
  CHECK(r.request_headers_to_add(0).append_action() ==
        envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  CHECK(r.request_headers_to_add(1).header().key() == "x-b");
  CHECK(r.request_headers_to_add(2).header().key() == "x-c");
  CHECK(r.request_headers_to_add(2).append_action() ==
        envoy::config::core::v3::HeaderValueOption::APPEND_IF_EXISTS_OR_ADD);
  CHECK(r.request_headers_to_remove_size() == 1);
  CHECK(r.response_headers_to_add(0).header().key() == "x-e");
  CHECK(r.route().prefix_rewrite() == "/prefix");
  CHECK(r.route().host_rewrite_literal() == "reviews.internal");
  const auto& c0 = r.route().weighted_clusters().clusters(0);
  CHECK(c0.request_headers_to_add(0).header().key() == "x-weight");
  CHECK(c0.request_headers_to_add(0).header().value() == "v1");
}

TEST_CASE("sourceLabels: the route exists only for proxies with those labels, cached apart") {
  std::string yaml = vs(R"(  - match:
    - sourceLabels: {app: productpage}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
)");
  GenerationCache cache;
  Fixture product(yaml, proxyIn("default", {{"app", "productpage"}}));
  Fixture other(yaml, proxyIn("default", {{"app", "details"}}));
  product.cache = &cache;
  other.cache = &cache;
  auto productRoutes = reviewsRoutes(product);
  auto otherRoutes = reviewsRoutes(other);
  // A match with only sourceLabels is a catch-all for the proxies it selects (Istio stops there).
  REQUIRE(productRoutes.size() == 1);
  CHECK(productRoutes[0].route().cluster() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  REQUIRE(otherRoutes.size() == 1);
  CHECK(otherRoutes[0].route().cluster() == "outbound|9080|v1|reviews.default.svc.cluster.local");
}

TEST_CASE("delegate: the delegate's routes merge under the root's match and inherit its settings") {
  Fixture f(vs(R"(  - name: api
    match:
    - uri: {prefix: /api}
    timeout: 7s
    delegate: {name: reviews-api, namespace: team}
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-api, namespace: team}
spec:
  http:
  - name: v2
    match:
    - uri: {prefix: /api/v2}
    route:
    - destination: {host: reviews.default.svc.cluster.local, subset: v2}
  - name: conflict
    match:
    - uri: {prefix: /other}
    route:
    - destination: {host: reviews.default.svc.cluster.local, subset: v9}
  - route:
    - destination: {host: reviews.default.svc.cluster.local, subset: v3}
)"),
            proxyIn("default"));
  auto routes = reviewsRoutes(f);
  REQUIRE(routes.size() == 3);
  CHECK(routes[0].name() == "api-v2");
  CHECK(routes[0].match().prefix() == "/api/v2");
  CHECK(routes[0].route().cluster() == "outbound|9080|v2|reviews.default.svc.cluster.local");
  CHECK(routes[0].route().timeout().seconds() == 7);
  CHECK(routes[1].name() == "api");
  CHECK(routes[1].match().prefix() == "/api");
  CHECK(routes[1].route().cluster() == "outbound|9080|v3|reviews.default.svc.cluster.local");
  CHECK(routes[2].route().cluster() == "outbound|9080|v1|reviews.default.svc.cluster.local");
  // Merged routes are reported against the root VirtualService.
  CHECK(routes[0].metadata().filter_metadata().at("istio").fields().at("config").string_value() ==
        "/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews");
}

TEST_CASE("a match on another port or naming a gateway does not apply to the sidecar") {
  Fixture f(vs(R"(  - match:
    - port: 8080
    - gateways: [ingress]
    - uri: {prefix: /ok}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
)"),
            proxyIn("default"));
  auto routes = reviewsRoutes(f);
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].match().prefix() == "/ok");
}

TEST_CASE("a request Host/:authority header set becomes the authority rewrite, not a header") {
  Fixture f(vs(R"(  - headers:
      request:
        set: {host: reviews.internal, x-a: "1"}
    route:
    - destination: {host: reviews}
)"),
            proxyIn("default"));
  const Route r = reviewsRoutes(f)[0];
  CHECK(r.route().host_rewrite_literal() == "reviews.internal");
  REQUIRE(r.request_headers_to_add_size() == 1);
  CHECK(r.request_headers_to_add(0).header().key() == "x-a");
}
