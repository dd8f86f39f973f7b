// Authorization end to end on loopback, with configs shaped as meshd emits them for
// AuthorizationPolicy and RequestAuthentication: the real curl through RBAC and jwt_authn
// (403 "RBAC: access denied", 401 with Envoy's texts and Bearer challenge, the verified payload
// forwarded), requestPrincipals read from the JWT payload, and network RBAC closing a TCP
// connection before any upstream is dialled.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <chrono>
#include <string>

#include "proxy/authz/jwt_test_support.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
using mesh::proxy::authz::testing::TestKey;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kIssuer = "https://issuer.example.com";

std::string tcpListener(const std::string& name, const std::string& rbac) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains {
      filters { name: "envoy.filters.network.rbac" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC] { stat_prefix: "tcp." rules { )" + rbac + R"( } } } }
      filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: "app" } } } })";
}

// meshd's jwt_builder output for one RequestAuthentication jwtRule with outputPayloadToHeader.
std::string jwtFilter(const std::string& jwks) {
  return R"(http_filters { name: "envoy.filters.http.jwt_authn" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication] {
      providers { key: "origins-0" value {
        issuer: ")" + std::string(kIssuer) + R"(" audiences: "shop"
        forward_payload_header: "x-jwt-payload" payload_in_metadata: "payload"
        normalize_payload_in_metadata { space_delimited_claims: "permission" space_delimited_claims: "scope" }
        local_jwks { inline_string: ')" + jwks + R"(' } } }
      rules { match { prefix: "/" } requires { requires_any {
        requirements { provider_name: "origins-0" } requirements { allow_missing { } } } } }
      bypass_cors_preflight: true } } })";
}

std::string rbacFilter(const std::string& rules) {
  return R"(http_filters { name: "envoy.filters.http.rbac" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC] { rules { )" + rules + " } } } }";
}

// meshd's rbac_rule output: a DENY policy on DELETE, ALLOW policies for GET /public* by anyone
// and /private* for the request principal "https://issuer.example.com/alice".
const char* kDenyDelete = R"(action: DENY policies { key: "ns[shop]-policy[no-delete]-rule[0]" value {
    permissions { and_rules { rules { or_rules { rules { header { name: ":method" string_match { exact: "DELETE" } } } } } } }
    principals { and_ids { ids { any: true } } } } })";
const char* kAllow = R"(action: ALLOW
  policies { key: "ns[shop]-policy[public]-rule[0]" value {
    permissions { and_rules {
      rules { or_rules { rules { header { name: ":method" string_match { exact: "GET" } } } } }
      rules { or_rules { rules { url_path { path { prefix: "/public" } } } } } } }
    principals { and_ids { ids { any: true } } } } }
  policies { key: "ns[shop]-policy[private]-rule[0]" value {
    permissions { and_rules { rules { or_rules { rules { url_path { path { prefix: "/private" } } } } } } }
    principals { and_ids { ids { and_ids {
      ids { metadata { filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "iss" }
            value { string_match { exact: "https://issuer.example.com" } } } }
      ids { metadata { filter: "envoy.filters.http.jwt_authn" path { key: "payload" } path { key: "sub" }
            value { string_match { exact: "alice" } } } } } } } } } })";
// Istio's ALLOW policy with no rules: NOT any for NOT any, so nothing is allowed.
const char* kAllowNothing = R"(action: ALLOW policies { key: "ns[shop]-policy[allow-nothing]-rule[0]" value {
    permissions { not_rule { any: true } } principals { not_id { any: true } } } })";

int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

nlohmann::json claims(const std::string& sub, int64_t expIn = 3600) {
  return {{"iss", kIssuer}, {"sub", sub}, {"aud", "shop"}, {"exp", now() + expIn}, {"scope", "read write"}};
}

struct Fixture {
  testing::TestBackend v1{"v1"};
  TestKey key = TestKey::rsa("k1");
  DataPlane plane{[] {
    DataPlaneOptions o;
    o.threads = 2;
    return o;
  }()};
  uint16_t authzPort = 0, lockedPort = 0, openPort = 0, tcpDeniedPort = 0, tcpAllowedPort = 0;

  Fixture() {
    auto snap = std::make_shared<XdsSnapshot>();
    auto c = testing::parseCluster(testing::loopbackCluster("app", v1.port()));
    snap->clusters[c.name()].resource = c;
    auto add = [&](const std::string& text) {
      auto l = testing::parseListener(text);
      snap->listeners[l.name()].resource = l;
    };
    add(testing::loopbackHttpListener("authz", jwtFilter(authz::testing::jwksOf({&key})) + rbacFilter(kDenyDelete) + rbacFilter(kAllow) +
                                  R"(http_filters { name: "envoy.filters.http.fault" })"));
    add(testing::loopbackHttpListener("locked", rbacFilter(kAllowNothing)));
    add(testing::loopbackHttpListener("open", ""));
    // Loopback clients are not in 10.0.0.0/8: the ALLOW policy denies them.
    add(tcpListener("tcp-denied", R"(action: ALLOW policies { key: "ns[shop]-policy[internal]-rule[0]" value {
        permissions { and_rules { rules { any: true } } }
        principals { and_ids { ids { or_ids { ids { direct_remote_ip { address_prefix: "10.0.0.0" prefix_len { value: 8 } } } } } } } } })"));
    // A DENY of another namespace's peers: plain-text loopback clients have no principal.
    add(tcpListener("tcp-allowed", R"(action: DENY policies { key: "ns[shop]-policy[no-legacy]-rule[0]" value {
        permissions { and_rules { rules { any: true } } }
        principals { and_ids { ids { or_ids { ids { authenticated { principal_name { safe_regex { regex: ".*/ns/legacy/.*" } } } } } } } } } })"));
    auto applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane.start().has_value());
    authzPort = plane.boundPort("authz").value_or(0);
    lockedPort = plane.boundPort("locked").value_or(0);
    openPort = plane.boundPort("open").value_or(0);
    tcpDeniedPort = plane.boundPort("tcp-denied").value_or(0);
    tcpAllowedPort = plane.boundPort("tcp-allowed").value_or(0);
    REQUIRE(authzPort != 0);
    REQUIRE(tcpDeniedPort != 0);
  }
  ~Fixture() { plane.stop(); }

  // "BODY CODE" of one curl call.
  std::string curl(uint16_t port, const std::string& path, const std::string& args = "") const {
    return testing::run("curl -s -m 10 -w ' %{http_code}' " + args + " 'http://127.0.0.1:" + std::to_string(port) +
                        path + "'");
  }
  std::string bearer(const std::string& token) const { return "-H 'Authorization: Bearer " + token + "'"; }
};

}  // namespace

TEST_CASE("loopback authz: RBAC allows by method and path, denies with 403, other listeners keep working") {
  Fixture f;
  CHECK(f.curl(f.authzPort, "/public/items").ends_with(" 200"));
  CHECK(f.curl(f.authzPort, "/public/items", "-X POST") == "RBAC: access denied 403");
  CHECK(f.curl(f.authzPort, "/public/items", "-X DELETE") == "RBAC: access denied 403");  // the DENY policy
  CHECK(f.curl(f.authzPort, "/other") == "RBAC: access denied 403");
  int before = f.v1.requests();
  CHECK(f.curl(f.lockedPort, "/public/items") == "RBAC: access denied 403");
  CHECK(f.curl(f.lockedPort, "/anything") == "RBAC: access denied 403");
  CHECK(f.v1.requests() == before);  // denied requests never reach the upstream
  CHECK(f.curl(f.openPort, "/anything").ends_with(" 200"));
  // HTTP/2 (h2c prior knowledge) goes through the same filters.
  CHECK(f.curl(f.authzPort, "/public/h2", "--http2-prior-knowledge").ends_with(" 200"));
  CHECK(f.curl(f.authzPort, "/other", "--http2-prior-knowledge") == "RBAC: access denied 403");
  // A gRPC request gets the denial as gRPC's PERMISSION_DENIED.
  std::string grpc = testing::run("curl -s -m 10 -D - -o /dev/null -H 'content-type: application/grpc' 'http://127.0.0.1:" +
                                  std::to_string(f.lockedPort) + "/pkg.Svc/Method'");
  CHECK(grpc.starts_with("HTTP/1.1 200"));
  CHECK(grpc.find("grpc-status: 7") != std::string::npos);
  CHECK(grpc.find("grpc-message: RBAC: access denied") != std::string::npos);
  auto stats = f.plane.stats();
  CHECK(stats.rbacDenied >= 5);
  CHECK(stats.rbacAllowed >= 2);
}

TEST_CASE("loopback authz: a valid JWT passes, its payload is forwarded and requestPrincipals match it") {
  Fixture f;
  std::string alice = f.key.sign(claims("alice"), "RS256");
  std::string out = f.curl(f.authzPort, "/private/report", f.bearer(alice));
  CHECK(out.ends_with(" 200"));
  CHECK(out.starts_with("backend=v1 path=/private/report"));
  std::string payload = alice.substr(alice.find('.') + 1, alice.rfind('.') - alice.find('.') - 1);
  CHECK(f.v1.lastHeader("x-jwt-payload") == payload);
  CHECK(f.v1.lastHeader("authorization").empty());  // forward: false
  // A spoofed payload header never reaches the app.
  CHECK(f.curl(f.authzPort, "/public/x", "-H 'x-jwt-payload: forged'").ends_with(" 200"));
  CHECK(f.v1.lastHeader("x-jwt-payload").empty());

  // Without a token the request is anonymous: allowed where anyone is, denied on /private.
  CHECK(f.curl(f.authzPort, "/private/report") == "RBAC: access denied 403");
  std::string bob = f.key.sign(claims("bob"), "RS256");
  CHECK(f.curl(f.authzPort, "/private/report", f.bearer(bob)) == "RBAC: access denied 403");
  CHECK(f.curl(f.authzPort, "/public/a", f.bearer(bob)).ends_with(" 200"));
}

TEST_CASE("loopback authz: bad and expired tokens get 401 with Envoy's text and a Bearer challenge") {
  Fixture f;
  std::string expired = f.key.sign(claims("alice", -3600), "RS256");
  CHECK(f.curl(f.authzPort, "/public/a", f.bearer(expired)) == "Jwt is expired 401");
  std::string head = testing::run("curl -s -m 10 -D - -o /dev/null " + f.bearer(expired) + " 'http://127.0.0.1:" +
                                   std::to_string(f.authzPort) + "/public/a?q=1'");
  CHECK(head.find("www-authenticate: Bearer realm=\"http://127.0.0.1:" + std::to_string(f.authzPort) +
                  "/public/a\", error=\"invalid_token\"") != std::string::npos);

  std::string good = f.key.sign(claims("alice"), "RS256");
  std::string tampered = good.substr(0, good.size() - 4) + (good.ends_with("AAAA") ? "BBBB" : "AAAA");
  CHECK(f.curl(f.authzPort, "/public/a", f.bearer(tampered)) == "Jwt verification fails 401");
  TestKey stranger = TestKey::rsa("k1");
  CHECK(f.curl(f.authzPort, "/public/a", f.bearer(stranger.sign(claims("alice"), "RS256"))) ==
        "Jwt verification fails 401");
  nlohmann::json otherIssuer = claims("alice");
  otherIssuer["iss"] = "https://evil.example.com";
  CHECK(f.curl(f.authzPort, "/public/a", f.bearer(f.key.sign(otherIssuer, "RS256"))) ==
        "Jwt issuer is not configured 401");
  nlohmann::json otherAudience = claims("alice");
  otherAudience["aud"] = "billing";
  CHECK(f.curl(f.authzPort, "/public/a", f.bearer(f.key.sign(otherAudience, "RS256"))) ==
        "Audiences in Jwt are not allowed 403");
  // A CORS preflight is not authenticated (bypass_cors_preflight), but RBAC still decides.
  CHECK(f.curl(f.authzPort, "/public/a",
               "-X OPTIONS -H 'Origin: https://app' -H 'Access-Control-Request-Method: GET' " + f.bearer(expired)) ==
        "RBAC: access denied 403");
  CHECK(f.plane.stats().jwtDenied >= 5);
}

TEST_CASE("loopback authz: network RBAC closes a denied TCP connection before dialling upstream") {
  Fixture f;
  asio::io_context ioc;
  int before = f.v1.requests();
  {
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.tcpDeniedPort));
    boost::system::error_code ec;
    asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")), ec);
    char c;
    s.read_some(asio::buffer(&c, 1), ec);
    CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
  }
  CHECK(f.v1.requests() == before);
  {
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.tcpAllowedPort));
    boost::system::error_code ec;
    asio::write(s, asio::buffer(std::string("GET /tcp HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")), ec);
    std::string got;
    char buf[4096];
    for (;;) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      got.append(buf, n);
    }
    CHECK(got.starts_with("HTTP/1.1 200"));
    CHECK(got.find("backend=v1 path=/tcp") != std::string::npos);
  }
}

TEST_CASE("loopback authz: unsupported RBAC and JWT settings NACK naming the field") {
  DataPlane plane{DataPlaneOptions{}};
  auto snap = std::make_shared<XdsSnapshot>();
  auto l = testing::parseListener(testing::loopbackHttpListener(
      "bad", rbacFilter(R"(action: ALLOW policies { key: "p" value { permissions { uri_template { } } principals { any: true } } })")));
  snap->listeners[l.name()].resource = l;
  auto applied = plane.apply(snap);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().message.find("(envoy.filters.http.rbac).rules.policies[p].permissions[0].uri_template") !=
        std::string::npos);

  auto snap2 = std::make_shared<XdsSnapshot>();
  auto l2 = testing::parseListener(testing::loopbackHttpListener("bad", R"(http_filters { name: "envoy.filters.http.jwt_authn" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication] {
      providers { key: "p" value { issuer: "i" local_jwks { inline_string: "not json" } } } } } })"));
  snap2->listeners[l2.name()].resource = l2;
  applied = plane.apply(snap2);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().message.find("providers[p].local_jwks: invalid JWKS") != std::string::npos);
}
