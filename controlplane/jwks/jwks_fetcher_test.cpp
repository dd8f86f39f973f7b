#include "controlplane/jwks/jwks_fetcher.h"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include "controlplane/monitoring/http_server.h"

namespace mesh::jwks {

using namespace std::chrono_literals;

TEST_CASE("checkFetchUrl: https anywhere, plain http to loopback only") {
  CHECK(checkFetchUrl("https://login.example.com/.well-known/jwks.json"));
  CHECK(checkFetchUrl("HTTPS://login.example.com/keys"));
  CHECK(checkFetchUrl("http://127.0.0.1:8080/jwks.json"));
  CHECK(checkFetchUrl("http://127.3.4.5/jwks.json"));
  CHECK(checkFetchUrl("http://localhost:9000/jwks.json"));
  CHECK(checkFetchUrl("http://[::1]:9000/jwks.json"));
  CHECK_FALSE(checkFetchUrl("http://login.example.com/jwks.json"));
  CHECK_FALSE(checkFetchUrl("http://127.0.0.1.example.com/jwks.json"));
  CHECK_FALSE(checkFetchUrl("http://10.0.0.1/jwks.json"));
  CHECK_FALSE(checkFetchUrl("file:///etc/passwd"));
  CHECK_FALSE(checkFetchUrl("ftp://127.0.0.1/jwks.json"));
  CHECK_FALSE(checkFetchUrl("not a url"));
  CHECK(checkFetchUrl("gopher://x").error().code == ErrorCode::InvalidInput);
}

TEST_CASE("checkJwks and discovery documents") {
  CHECK(checkJwks(R"({"keys":[{"kty":"RSA","e":"AQAB","n":"AA"}]})"));
  CHECK_FALSE(checkJwks(R"({"keys":[]})"));
  CHECK_FALSE(checkJwks(R"({"key":[1]})"));
  CHECK_FALSE(checkJwks("<html></html>"));
  CHECK_FALSE(checkJwks("[]"));
  CHECK(discoveredJwksUri(R"({"jwks_uri":"https://a/certs"})").value() == "https://a/certs");
  CHECK_FALSE(discoveredJwksUri(R"({"jwks_uri":42})"));
  CHECK_FALSE(discoveredJwksUri("{}"));
  CHECK(discoveryUrl("https://login.example/") == "https://login.example/.well-known/openid-configuration");
  CHECK(discoveryUrl("https://login.example/tenant") ==
        "https://login.example/tenant/.well-known/openid-configuration");
}

TEST_CASE("the curl fetcher against a loopback HTTP server: body, status, size limit, policy") {
  monitoring::RouteTable routes;
  REQUIRE(routes.add("/jwks.json", [](const monitoring::HttpRequest&) {
    return monitoring::HttpResponse{200, "application/json", R"({"keys":[{"kty":"RSA"}]})", {}};
  }));
  REQUIRE(routes.add("/big", [](const monitoring::HttpRequest&) {
    return monitoring::HttpResponse{200, "application/json", std::string(2048, 'x'), {}};
  }));
  monitoring::HttpServer server(std::move(routes));
  REQUIRE(server.start("127.0.0.1:0"));
  std::string base = fmt::format("http://127.0.0.1:{}", server.port());

  CurlFetchOptions options;
  options.maxBodyBytes = 1024;
  auto fetcher = makeCurlFetcher(options);
  std::atomic<bool> cancel{false};
  auto ok = fetcher->get(base + "/jwks.json", 5s, cancel);
  REQUIRE_MESSAGE(ok, ok.error().message);
  CHECK(*ok == R"({"keys":[{"kty":"RSA"}]})");

  auto missing = fetcher->get(base + "/nope", 5s, cancel);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("HTTP 404") != std::string::npos);

  auto big = fetcher->get(base + "/big", 5s, cancel);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == ErrorCode::InvalidInput);
  CHECK(big.error().message.find("over 1024 bytes") != std::string::npos);

  // Not loopback: refused before any connection is made.
  auto plain = fetcher->get("http://192.0.2.1/jwks.json", 5s, cancel);
  REQUIRE_FALSE(plain);
  CHECK(plain.error().code == ErrorCode::InvalidInput);

  cancel = true;
  auto cancelled = fetcher->get(base + "/jwks.json", 5s, cancel);
  CHECK_FALSE(cancelled);
}

}  // namespace mesh::jwks
