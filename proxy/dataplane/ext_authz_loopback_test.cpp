// ext_authz (AuthorizationPolicy CUSTOM) end to end on loopback: the real curl through the HTTP
// ext_authz filter to a TestBackend acting as the authorization server (/ext-authz/...: status
// and response headers chosen by the request), then to the app backend. Allowed and denied
// checks, headers both ways, errors and timeouts (status_on_error, failure_mode_allow), the
// request body, and Istio's CUSTOM shape where RBAC shadow rules choose the checked requests.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <string>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// An ext_authz filter with an http_service to `cluster`; `extra` adds ExtAuthz fields.
std::string extAuthz(const std::string& cluster, const std::string& extra) {
  return R"(http_filters { name: "envoy.filters.http.ext_authz" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz] {
      transport_api_version: V3
      http_service {
        server_uri { uri: "http://authz" cluster: ")" + cluster + R"(" timeout { seconds: 1 } }
        path_prefix: "/ext-authz"
        authorization_request { headers_to_add { key: "x-added" value: "yes" } }
        authorization_response {
          allowed_upstream_headers { patterns { exact: "x-user" } }
          allowed_upstream_headers_to_append { patterns { exact: "x-tag" } }
          allowed_client_headers { patterns { exact: "x-deny-reason" } } } }
      allowed_headers { patterns { exact: "x-test-status" } patterns { prefix: "x-test-reply-" } }
      )" + extra + " } } }";
}

// What meshd's ext_authz_builder emits for a CUSTOM policy on /admin*: RBAC shadow rules that
// tag matching requests, and ext_authz enabled by that tag.
std::string istioCustom(const std::string& cluster) {
  return R"(http_filters { name: "envoy.filters.http.rbac" typed_config {
    [type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC] {
      shadow_rules { action: DENY policies { key: "istio-ext-authz-ns[shop]-policy[ext]-rule[0]" value {
        permissions { and_rules { rules { or_rules { rules { url_path { path { prefix: "/admin" } } } } } } }
        principals { and_ids { ids { any: true } } } } } }
      shadow_rules_stat_prefix: "istio_ext_authz_" } } }
    http_filters { name: "envoy.filters.http.ext_authz" typed_config {
      [type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz] {
        transport_api_version: V3
        http_service { server_uri { uri: "http://authz" cluster: ")" + cluster + R"(" timeout { seconds: 600 } }
                       path_prefix: "/ext-authz" }
        allowed_headers { patterns { exact: "x-test-status" } }
        filter_enabled_metadata { filter: "envoy.filters.http.rbac"
          path { key: "istio_ext_authz_shadow_effective_policy_id" }
          value { string_match { prefix: "istio-ext-authz" } } } } } })";
}

uint16_t closedPort() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes
}

struct Fixture {
  testing::TestBackend app{"app"};
  testing::TestBackend authz{"authz"};
  DataPlane plane{[] {
    DataPlaneOptions o;
    o.threads = 2;
    return o;
  }()};
  std::map<std::string, uint16_t> ports;

  Fixture() {
    auto snap = std::make_shared<XdsSnapshot>();
    for (const auto& [name, port] : {std::pair<std::string, uint16_t>{"app", app.port()},
                                     {"authz", authz.port()}, {"down", closedPort()}}) {
      auto c = testing::parseCluster(testing::loopbackCluster(name, port));
      snap->clusters[c.name()].resource = c;
    }
    std::map<std::string, std::string> listeners = {
        {"checked", extAuthz("authz", "")},
        {"fail-open", extAuthz("down", "failure_mode_allow: true failure_mode_allow_header_add: true")},
        {"fail-closed", extAuthz("down", "status_on_error { code: ServiceUnavailable }")},
        {"no-cluster", extAuthz("missing", "")},
        {"body", extAuthz("authz", "with_request_body { max_request_bytes: 16 }")},
        {"partial", extAuthz("authz", "with_request_body { max_request_bytes: 16 allow_partial_message: true }")},
        {"istio", istioCustom("authz")},
    };
    for (const auto& [name, filters] : listeners) {
      auto l = testing::parseListener(testing::loopbackHttpListener(name, filters));
      snap->listeners[l.name()].resource = l;
    }
    auto applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane.start().has_value());
    for (const auto& [name, filters] : listeners) {
      ports[name] = plane.boundPort(name).value_or(0);
      REQUIRE(ports[name] != 0);
    }
  }
  ~Fixture() { plane.stop(); }

  // "BODY CODE" of one curl call.
  std::string curl(const std::string& listener, const std::string& path, const std::string& args = "") {
    return testing::run("curl -s -m 10 -w ' %{http_code}' " + args + " 'http://127.0.0.1:" +
                        std::to_string(ports[listener]) + path + "'");
  }
  // The response head of one curl call.
  std::string head(const std::string& listener, const std::string& path, const std::string& args = "") {
    return testing::run("curl -s -m 10 -D - -o /dev/null " + args + " 'http://127.0.0.1:" +
                        std::to_string(ports[listener]) + path + "'");
  }
};

}  // namespace

TEST_CASE("loopback ext_authz: an allowed check forwards the request with the server's headers") {
  Fixture f;
  std::string out = f.curl("checked", "/items?q=1",
                           "-H 'Authorization: Bearer t0k' -H 'x-other: no' -H 'x-user: forged' -H 'x-tag: mine' "
                           "-H 'x-test-reply-x-user: alice' -H 'x-test-reply-x-tag: checked' "
                           "-H 'x-test-reply-x-ignored: 1'");
  CHECK(out == "backend=app path=/items?q=1 body= 200");
  CHECK(f.authz.requests() == 1);
  // The check request: method and path (after path_prefix), the default and allowed headers,
  // headers_to_add; nothing else.
  CHECK(f.authz.lastHeader("authorization") == "Bearer t0k");
  CHECK(f.authz.lastHeader("x-added") == "yes");
  CHECK(f.authz.lastHeader("x-test-reply-x-user") == "alice");
  CHECK(f.authz.lastHeader("x-other").empty());
  CHECK(f.authz.lastHeader("content-length") == "0");
  CHECK(f.authz.lastHeader("host") == "127.0.0.1:" + std::to_string(f.ports["checked"]));
  // allowed_upstream_headers override, ..._to_append append, others are dropped.
  CHECK(f.app.lastHeader("x-user") == "alice");
  CHECK(f.app.lastHeader("x-tag").find("checked") != std::string::npos);
  CHECK(f.app.lastHeader("x-ignored").empty());
  CHECK(f.app.lastHeader("x-added").empty());  // only for the authorization server
  // HTTP/2 downstream goes through the same check.
  CHECK(f.curl("checked", "/h2", "--http2-prior-knowledge").ends_with(" 200"));
  CHECK(f.authz.requests() == 2);
}

TEST_CASE("loopback ext_authz: a denial returns the server's status, body and allowed headers") {
  Fixture f;
  int before = f.app.requests();
  CHECK(f.curl("checked", "/items", "-H 'x-test-status: 403'") ==
        "backend=authz path=/ext-authz/items body= 403");
  std::string h = f.head("checked", "/items",
                         "-H 'x-test-status: 401' -H 'x-test-reply-x-deny-reason: nope' "
                         "-H 'x-test-reply-x-secret: s' -H 'x-test-reply-www-authenticate: Bearer'");
  CHECK(h.starts_with("HTTP/1.1 401"));
  CHECK(h.find("x-deny-reason: nope") != std::string::npos);
  CHECK(h.find("www-authenticate: Bearer") != std::string::npos);  // always allowed, as Envoy
  CHECK(h.find("x-secret") == std::string::npos);
  CHECK(f.app.requests() == before);  // denied requests never reach the app
  // A gRPC request gets the denial as a gRPC status.
  std::string grpc = f.head("checked", "/pkg.Svc/M", "-H 'content-type: application/grpc' -H 'x-test-status: 403'");
  CHECK(grpc.find("grpc-status: 7") != std::string::npos);
}

TEST_CASE("loopback ext_authz: errors and timeouts deny with status_on_error unless failure_mode_allow") {
  Fixture f;
  int before = f.app.requests();
  CHECK(f.curl("checked", "/items", "-H 'x-test-status: 503'") == " 403");  // a 5xx is an error
  CHECK(f.curl("checked", "/slow?ms=1500") == " 403");                     // past the 1 s timeout
  CHECK(f.curl("fail-closed", "/items") == " 503");
  CHECK(f.curl("no-cluster", "/items") == " 403");
  CHECK(f.app.requests() == before);
  CHECK(f.curl("fail-open", "/items") == "backend=app path=/items body= 200");
  CHECK(f.app.lastHeader("x-envoy-auth-failure-mode-allowed") == "true");
  auto stats = f.plane.stats();
  CHECK(stats.extAuthzErrors == 5);
  CHECK(stats.extAuthzAllowed == 0);
  CHECK(stats.extAuthzDenied == 0);
}

TEST_CASE("loopback ext_authz: with_request_body sends the body, 413 above max_request_bytes") {
  Fixture f;
  CHECK(f.curl("body", "/upload", "-d hello").ends_with(" 200"));
  CHECK(f.authz.lastHeader("content-length") == "5");
  CHECK(f.authz.lastHeader("x-envoy-auth-partial-body") == "false");
  CHECK(f.app.lastHeader("content-length") == "5");
  int checks = f.authz.requests();
  CHECK(f.curl("body", "/upload", "-d 0123456789abcdefXYZ") == "Payload Too Large 413");
  CHECK(f.authz.requests() == checks);
  // allow_partial_message: the first max_request_bytes go to the server, all of it upstream.
  CHECK(f.curl("partial", "/upload", "-d 0123456789abcdefXYZ") ==
        "backend=app path=/upload body=0123456789abcdefXYZ 200");
  CHECK(f.authz.lastHeader("content-length") == "16");
  CHECK(f.authz.lastHeader("x-envoy-auth-partial-body") == "true");
}

TEST_CASE("loopback ext_authz: Istio's CUSTOM shape checks only the requests its rules select") {
  Fixture f;
  CHECK(f.curl("istio", "/public", "-H 'x-test-status: 403'") == "backend=app path=/public body= 200");
  CHECK(f.authz.requests() == 0);
  CHECK(f.curl("istio", "/admin/users", "-H 'x-test-status: 403'") ==
        "backend=authz path=/ext-authz/admin/users body= 403");
  CHECK(f.curl("istio", "/admin/users").ends_with(" 200"));
  CHECK(f.authz.requests() == 2);
  CHECK(f.curl("istio", "/admin/h2", "--http2-prior-knowledge -H 'x-test-status: 403'").ends_with(" 403"));
  auto stats = f.plane.stats();
  CHECK(stats.extAuthzAllowed == 1);
  CHECK(stats.extAuthzDenied == 2);
}

TEST_CASE("compile ext_authz: google_grpc, network ext_authz's misuses and unsupported fields are refused by name") {
  auto compile = [](const std::string& listener) {
    auto l = testing::parseListener(listener);
    return compileListener(l);
  };
  auto grpc = compile(testing::loopbackHttpListener("g", R"(http_filters { name: "envoy.filters.http.ext_authz" typed_config {
      [type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz] {
        grpc_service { google_grpc { target_uri: "authz:9000" stat_prefix: "a" } } } } })"));
  REQUIRE_FALSE(grpc.has_value());
  CHECK(grpc.error().message.find("google_grpc") != std::string::npos);
  auto onSuccess = compile(testing::loopbackHttpListener("s", extAuthz("authz", "").replace(
      extAuthz("authz", "").find("allowed_client_headers {"), 0,
      "allowed_client_headers_on_success { patterns { exact: \"x-a\" } } ")));
  REQUIRE_FALSE(onSuccess.has_value());
  CHECK(onSuccess.error().message.find("allowed_client_headers_on_success") != std::string::npos);
  auto networkExtAuthz = [](const std::string& service) {
    return R"(filters { name: "envoy.filters.network.ext_authz" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz] { stat_prefix: "tcp." )" +
           service + " } } }";
  };
  const std::string tcpProxy = R"(filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: "app" } } })";
  const std::string address = R"(address { socket_address { address: "127.0.0.1" port_value: 0 } })";
  auto networkGoogle = compile("name: \"t\" " + address + " filter_chains { " +
                               networkExtAuthz(R"(grpc_service { google_grpc { target_uri: "authz:9000" stat_prefix: "a" } })") +
                               tcpProxy + " }");
  REQUIRE_FALSE(networkGoogle.has_value());
  CHECK(networkGoogle.error().message.find("envoy.filters.network.ext_authz).grpc_service") != std::string::npos);
  CHECK(networkGoogle.error().message.find("google_grpc") != std::string::npos);
  const std::string envoyGrpc = R"(grpc_service { envoy_grpc { cluster_name: "authz" } })";
  CHECK(compile("name: \"t\" " + address + " filter_chains { " + networkExtAuthz(envoyGrpc) + tcpProxy + " }")
            .has_value());
  auto twice = compile("name: \"t\" " + address + " filter_chains { " + networkExtAuthz(envoyGrpc) +
                       networkExtAuthz(envoyGrpc) + tcpProxy + " }");
  REQUIRE_FALSE(twice.has_value());
  CHECK(twice.error().message.find("one network ext_authz filter per chain") != std::string::npos);
  // In front of an HCM: the HTTP filter is the one to use.
  std::string hcmListener = testing::loopbackHttpListener("h", "");
  hcmListener.insert(hcmListener.find("filter_chains {") + 15, networkExtAuthz(envoyGrpc));
  auto beforeHcm = compile(hcmListener);
  REQUIRE_FALSE(beforeHcm.has_value());
  CHECK(beforeHcm.error().message.find("network ext_authz in front of an http_connection_manager") != std::string::npos);
  CHECK(compile(testing::loopbackHttpListener("ok", extAuthz("authz", ""))).has_value());
}
