// The proxyless gRPC flavor of buildVirtualHost: the shapes gRPC's xDS clients accept
// (notes/grpc-xds-clients.md).
#include <doctest/doctest.h>

#include "controlplane/xds/route_test_support.h"
#include "controlplane/xds/virtual_host_builder.h"

using namespace mesh;
using namespace mesh::xds;
using namespace mesh::xds::test;
using envoy::config::route::v3::HeaderMatcher;

namespace {

constexpr std::string_view kGrpcVs = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {exact: /moved}
    redirect: {uri: /elsewhere}
  - match:
    - headers:
        x-exact: {exact: a}
        x-prefix: {prefix: b}
        x-regex: {regex: "c.*"}
        x-any: {}
    timeout: 5s
    retries:
      attempts: 4
      retryOn: unavailable,5xx,cancelled,503
    fault:
      abort:
        grpcStatus: UNAVAILABLE
        percentage: {value: 10}
    corsPolicy:
      allowOrigins: [{exact: https://a.example.com}]
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
)";

envoy::config::route::v3::VirtualHost grpcHost(const Fixture& f) {
  const model::Service* svc = f.snapshot->service("reviews.default.svc.cluster.local", "default");
  REQUIRE(svc);
  VirtualHostOptions o;
  o.flavor = RouteFlavor::ProxylessGrpc;
  return buildVirtualHost(f.view(), *svc, svc->ports.front(),
                          VirtualServiceSet(*f.snapshot, f.snapshot->virtualServices("default", "mesh")), o);
}

}  // namespace

TEST_CASE("gRPC flavor: redirects dropped, old header matcher fields, max_stream_duration") {
  Fixture f(withServices(kGrpcVs), proxyIn("default"));
  auto vh = grpcHost(f);
  CHECK(vh.name() == "reviews.default.svc.cluster.local:9080");
  CHECK(std::ranges::find(vh.domains(), "reviews:9080") != vh.domains().end());
  REQUIRE(vh.routes_size() == 2);  // the redirect is gone
  const auto& r = vh.routes(0);
  REQUIRE(r.match().headers_size() == 4);
  CHECK(r.match().headers(0).name() == "x-any");
  CHECK(r.match().headers(0).header_match_specifier_case() == HeaderMatcher::kPresentMatch);
  CHECK(r.match().headers(1).header_match_specifier_case() == HeaderMatcher::kExactMatch);
  CHECK(r.match().headers(2).header_match_specifier_case() == HeaderMatcher::kPrefixMatch);
  CHECK(r.match().headers(3).header_match_specifier_case() == HeaderMatcher::kSafeRegexMatch);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CHECK(r.match().headers(1).exact_match() == "a");
  CHECK(r.match().headers(2).prefix_match() == "b");
  CHECK(r.match().headers(3).safe_regex_match().regex() == "c.*");
  CHECK_FALSE(r.route().has_max_grpc_timeout());
#pragma GCC diagnostic pop
  for (const auto& h : r.match().headers()) CHECK_FALSE(h.has_string_match());
  const auto& action = r.route();
  CHECK_FALSE(action.has_timeout());
  CHECK(action.max_stream_duration().max_stream_duration().seconds() == 5);
  CHECK(action.max_stream_duration().grpc_timeout_header_max().seconds() == 5);
  CHECK(action.retry_policy().retry_on() == "unavailable,cancelled");
  CHECK(action.retry_policy().num_retries().value() == 4);
  CHECK(action.retry_policy().retriable_status_codes_size() == 0);
  CHECK(action.retry_policy().retry_host_predicate_size() == 0);
  // Fault injection is one of gRPC's filters; CORS is not, and would be rejected.
  CHECK(r.typed_per_filter_config().contains("envoy.filters.http.fault"));
  CHECK_FALSE(r.typed_per_filter_config().contains("envoy.filters.http.cors"));
  CHECK_FALSE(r.has_decorator());
  CHECK(vh.routes(1).route().cluster() == "outbound|9080|v1|reviews.default.svc.cluster.local");
  // The default retry policy keeps gRPC's conditions only.
  CHECK(vh.routes(1).route().retry_policy().retry_on() == "unavailable,cancelled");
}

TEST_CASE("gRPC flavor without VirtualService: default route with max_stream_duration 0") {
  Fixture f(kServices, proxyIn("default"));
  auto vh = grpcHost(f);
  REQUIRE(vh.routes_size() == 1);
  CHECK(vh.routes(0).name() == "default");
  CHECK(vh.routes(0).route().max_stream_duration().has_max_stream_duration());
  CHECK(vh.routes(0).route().max_stream_duration().max_stream_duration().seconds() == 0);
  CHECK_FALSE(vh.include_request_attempt_count());
}
