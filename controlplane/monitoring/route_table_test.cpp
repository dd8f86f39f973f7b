#include "controlplane/monitoring/route_table.h"

#include <doctest/doctest.h>

#include <stdexcept>

namespace mesh::monitoring {
namespace {

HttpRequest request(std::string method, std::string path) {
  return HttpRequest{std::move(method), std::move(path), {}, {}};
}

HttpResponse ok(const HttpRequest&) { return HttpResponse::text(200, "ok\n"); }

}  // namespace

TEST_CASE("RouteTable: exact paths, 404, 405 with Allow, HEAD for GET routes") {
  RouteTable routes;
  REQUIRE(routes.add("/ready", ok));
  REQUIRE(routes.add("/debug/push", ok, {"POST"}));

  CHECK(routes.dispatch(request("GET", "/ready")).status == 200);
  CHECK(routes.dispatch(request("HEAD", "/ready")).status == 200);
  CHECK(routes.dispatch(request("GET", "/ready/")).status == 404);
  CHECK(routes.dispatch(request("GET", "/")).status == 404);

  const HttpResponse post = routes.dispatch(request("POST", "/ready"));
  CHECK(post.status == 405);
  REQUIRE(post.headers.size() == 1);
  CHECK(post.headers[0] == std::pair<std::string, std::string>{"Allow", "GET, HEAD"});
  CHECK(routes.dispatch(request("GET", "/debug/push")).status == 405);
  CHECK(routes.dispatch(request("POST", "/debug/push")).status == 200);
}

TEST_CASE("RouteTable: a second route for a path is a Conflict; bad paths are refused") {
  RouteTable routes;
  REQUIRE(routes.add("/metrics", ok));
  const auto again = routes.add("/metrics", ok);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::Conflict);
  CHECK_FALSE(routes.add("metrics", ok));
  CHECK_FALSE(routes.add("/x", nullptr));
}

TEST_CASE("RouteTable: a throwing handler becomes a 500, not a crash") {
  RouteTable routes;
  REQUIRE(routes.add("/boom", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("handler failed");
  }));
  const HttpResponse r = routes.dispatch(request("GET", "/boom"));
  CHECK(r.status == 500);
  CHECK(r.body == "internal error: handler failed\n");
}

}  // namespace mesh::monitoring
