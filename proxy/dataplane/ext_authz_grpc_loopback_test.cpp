// ext_authz with a grpc_service on loopback: the real curl through meshproxy's data plane to a
// gRPC Authorization/Check server made with gRPC's own C++ server (a generic service reading
// and writing CheckRequest / CheckResponse through the Envoy API's descriptors). OK answers
// change the request's headers, denials come back with their status, headers and body, failed
// calls give status_on_error. Network ext_authz on a tcp_proxy chain (Istio's CUSTOM shape for
// TCP: network RBAC shadow rules selecting connections, then the check) with curl bound to
// different loopback sources: allowed, denied (closed, UAEX), unselected, failed.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"
#include "proxy/dataplane/test_observer.h"
#include "proxy/xds/envoy_types.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
using nlohmann::json;

namespace {

// TCP sources: denied by the server, its calls failing, denied but outside the shadow rules.
constexpr const char* kTcpDenied = "127.0.0.2";
constexpr const char* kTcpFailing = "127.0.0.3";
constexpr const char* kTcpUnselected = "127.0.0.9";

// Answers Check by the request's x-test-status header: absent → OK (x-user set, x-drop removed),
// "deny" → denied 401 with a header and body, "fail" → the call fails (UNAVAILABLE).
class AuthorizationServer final : public grpc::CallbackGenericService {
 public:
  AuthorizationServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(this);
    server_ = builder.BuildAndStart();
  }
  ~AuthorizationServer() override { server_->Shutdown(); }
  uint16_t port() const { return static_cast<uint16_t>(port_); }
  json lastCheck() {
    std::lock_guard l(mu_);
    return last_;
  }
  std::string lastMethod() {
    std::lock_guard l(mu_);
    return method_;
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    {
      std::lock_guard l(mu_);
      method_ = ctx->method();
    }
    return new Reactor(*this);
  }

 private:
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(AuthorizationServer& server) : server_(server) { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      std::vector<grpc::Slice> slices;
      (void)request_.Dump(&slices);
      std::string bytes;
      for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      namespace gp = google::protobuf;
      const auto& types = EnvoyTypes::instance();
      std::string text;
      (void)gp::util::BinaryToJsonString(&types.resolver(), "type.googleapis.com/envoy.service.auth.v3.CheckRequest",
                                         bytes, &text);
      json check = json::parse(text, nullptr, false);
      {
        std::lock_guard l(server_.mu_);
        server_.last_ = check;
      }
      std::string verdict;
      if (check["attributes"].contains("request")) {
        verdict = check["attributes"]["request"]["http"]["headers"].value("x-test-status", "");
      } else {  // a TCP connection's check: by its source (see kTcp*)
        std::string source = check["attributes"]["source"]["address"]["socketAddress"].value("address", "");
        if (source == kTcpDenied || source == kTcpUnselected) verdict = "deny";
        if (source == kTcpFailing) verdict = "fail";
      }
      if (verdict == "fail") {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "authorization backend down"));
        return;
      }
      json answer;
      if (verdict == "deny") {
        answer = {{"status", {{"code", 7}}},
                  {"deniedResponse",
                   {{"status", {{"code", 401}}},
                    {"headers", {{{"header", {{"key", "x-deny-reason"}, {"value", "grpc"}}}}}},
                    {"body", "denied by grpc"}}}};
      } else {
        answer = {{"status", {{"code", 0}}},
                  {"okResponse",
                   {{"headers", {{{"header", {{"key", "x-user"}, {"value", "grpc-alice"}}}}}},
                    {"headersToRemove", {"x-drop"}}}}};
      }
      std::string out;
      (void)gp::util::JsonToBinaryString(&types.resolver(), "type.googleapis.com/envoy.service.auth.v3.CheckResponse",
                                         answer.dump(), &out);
      grpc::Slice slice(out);
      response_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    AuthorizationServer& server_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  json last_;
  std::string method_;
};

std::string listener(const std::string& name, const std::string& authzCluster) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "inbound_0.0.0.0_8080" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } route { cluster: "app" } } } }
        http_filters { name: "envoy.filters.http.ext_authz" typed_config {
          [type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz] {
            transport_api_version: V3
            grpc_service { envoy_grpc { cluster_name: ")" + authzCluster + R"(" authority: "outbound_.9000_._.authz" }
                           timeout { seconds: 2 } }
            with_request_body { max_request_bytes: 1024 } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

}  // namespace

TEST_CASE("loopback ext_authz grpc: Check decides; OK headers reach the app, denials the client") {
  testing::TestBackend app{"app"};
  AuthorizationServer authz;
  DataPlane plane{[] {
    DataPlaneOptions o;
    o.threads = 2;
    return o;
  }()};
  auto snap = std::make_shared<XdsSnapshot>();
  const std::string http2 = R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
      explicit_http_config { http2_protocol_options { } } } } })";
  for (const auto& c : {testing::parseCluster(testing::loopbackCluster("app", app.port())),
                        testing::parseCluster(testing::loopbackCluster("grpc-authz", authz.port(), http2)),
                        testing::parseCluster(testing::loopbackCluster("plain-authz", authz.port()))}) {
    snap->clusters[c.name()].resource = c;
  }
  for (const auto& l : {testing::parseListener(listener("grpc", "grpc-authz")),
                        testing::parseListener(listener("no-h2", "plain-authz"))}) {
    snap->listeners[l.name()].resource = l;
  }
  auto applied = plane.apply(snap);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
  REQUIRE(plane.start().has_value());
  uint16_t port = plane.boundPort("grpc").value_or(0);
  uint16_t noH2 = plane.boundPort("no-h2").value_or(0);
  REQUIRE(port != 0);
  auto curl = [](uint16_t p, const std::string& path, const std::string& args) {
    return testing::run("curl -s -m 10 -w ' %{http_code}' " + args + " 'http://127.0.0.1:" + std::to_string(p) +
                        path + "'");
  };

  CHECK(curl(port, "/items?x=1", "-H 'x-drop: secret' -H 'x-user: forged' -d payload") ==
        "backend=app path=/items?x=1 body=payload 200");
  CHECK(app.lastHeader("x-user") == "grpc-alice");
  CHECK(app.lastHeader("x-drop").empty());
  CHECK(authz.lastMethod() == "/envoy.service.auth.v3.Authorization/Check");
  json http = authz.lastCheck()["attributes"]["request"]["http"];
  CHECK(http.value("method", "") == "POST");
  CHECK(http.value("path", "") == "/items?x=1");
  CHECK(http.value("body", "") == "payload");
  CHECK(http["headers"].value(":authority", "") == "127.0.0.1:" + std::to_string(port));
  CHECK(http["headers"].value("x-drop", "") == "secret");
  CHECK(authz.lastCheck()["attributes"]["source"]["address"]["socketAddress"].value("address", "") == "127.0.0.1");

  int before = app.requests();
  CHECK(curl(port, "/items", "-H 'x-test-status: deny'") == "denied by grpc 401");
  std::string head = testing::run("curl -s -m 10 -D - -o /dev/null -H 'x-test-status: deny' 'http://127.0.0.1:" +
                                  std::to_string(port) + "/items'");
  CHECK(head.find("x-deny-reason: grpc") != std::string::npos);
  CHECK(curl(port, "/items", "-H 'x-test-status: fail'") == " 403");  // a failed call: status_on_error
  CHECK(curl(noH2, "/items", "") == " 403");  // gRPC needs an HTTP/2 cluster
  CHECK(app.requests() == before);
  plane.stop();
}

namespace {

// Istio's TCP chain for a CUSTOM policy: network RBAC whose shadow rules (sources 127.0.0.0/29)
// tag the connections, network ext_authz for tagged ones, then tcp_proxy to "app".
std::string tcpListener(const std::string& name, bool failureModeAllow) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains {
      filters { name: "envoy.filters.network.rbac" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC] {
          stat_prefix: "tcp." shadow_rules_stat_prefix: "istio_ext_authz_"
          shadow_rules { action: DENY policies { key: "istio-ext-authz-ns[default]-policy[tcp]-rule[0]" value {
            permissions { any: true } principals { direct_remote_ip { address_prefix: "127.0.0.0" prefix_len { value: 29 } } } } } } } } }
      filters { name: "envoy.filters.network.ext_authz" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz] {
          stat_prefix: "tcp." transport_api_version: V3 failure_mode_allow: )" +
         (failureModeAllow ? "true" : "false") + R"(
          grpc_service { envoy_grpc { cluster_name: "grpc-authz" authority: "outbound_.9000_._.authz" } timeout { seconds: 2 } }
          filter_enabled_metadata { filter: "envoy.filters.network.rbac" path { key: "istio_ext_authz_shadow_effective_policy_id" }
            value { string_match { prefix: "istio-ext-authz" } } } } } }
      filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: "app" } } } })";
}

std::string attributesSource(const json& check) {
  return check["attributes"]["source"]["address"]["socketAddress"].value("address", "");
}

}  // namespace

TEST_CASE("loopback ext_authz grpc: network ext_authz on a TCP chain allows one source and closes another") {
  testing::TestBackend app{"app"};
  AuthorizationServer authz;
  auto observer = std::make_shared<testing::RecordingObserver>();
  DataPlane plane{[&] {
    DataPlaneOptions o;
    o.threads = 2;
    o.observer = observer;
    return o;
  }()};
  auto snap = std::make_shared<XdsSnapshot>();
  const std::string http2 = R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
      explicit_http_config { http2_protocol_options { } } } } })";
  for (const auto& c : {testing::parseCluster(testing::loopbackCluster("app", app.port())),
                        testing::parseCluster(testing::loopbackCluster("grpc-authz", authz.port(), http2))}) {
    snap->clusters[c.name()].resource = c;
  }
  for (const auto& l : {testing::parseListener(tcpListener("tcp", false)),
                        testing::parseListener(tcpListener("tcp-fail-open", true))}) {
    snap->listeners[l.name()].resource = l;
  }
  auto applied = plane.apply(snap);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
  REQUIRE(plane.start().has_value());
  uint16_t port = plane.boundPort("tcp").value_or(0);
  uint16_t failOpen = plane.boundPort("tcp-fail-open").value_or(0);
  REQUIRE(port != 0);
  // HTTP/1.1 through tcp_proxy from a chosen source address; " 000" when the proxy closes.
  auto curlFrom = [](const std::string& source, uint16_t p, const std::string& path) {
    return testing::run("curl -s -m 10 -w ' %{http_code}' --interface " + source + " 'http://127.0.0.1:" +
                        std::to_string(p) + path + "'");
  };

  CHECK(curlFrom("127.0.0.1", port, "/tcp") == "backend=app path=/tcp body= 200");
  CHECK(authz.lastMethod() == "/envoy.service.auth.v3.Authorization/Check");
  json attributes = authz.lastCheck()["attributes"];
  CHECK_FALSE(attributes.contains("request"));
  CHECK(attributes["source"]["address"]["socketAddress"].value("address", "") == "127.0.0.1");
  CHECK(attributes["destination"]["address"]["socketAddress"].value("portValue", 0) == port);
  CHECK(plane.stats().extAuthzAllowed == 1);

  int before = app.requests();
  CHECK(curlFrom(kTcpDenied, port, "/tcp") == " 000");
  CHECK(plane.stats().extAuthzDenied == 1);
  CHECK(attributesSource(authz.lastCheck()) == kTcpDenied);
  // Outside the shadow rules: no check, the connection goes through although the server
  // would deny it.
  CHECK(curlFrom(kTcpUnselected, port, "/unselected") == "backend=app path=/unselected body= 200");
  CHECK(plane.stats().extAuthzDenied == 1);
  // A failed check closes the connection, unless failure_mode_allow.
  CHECK(curlFrom(kTcpFailing, port, "/tcp") == " 000");
  CHECK(plane.stats().extAuthzErrors == 1);
  CHECK(app.requests() == before + 1);
  CHECK(curlFrom(kTcpFailing, failOpen, "/open") == "backend=app path=/open body= 200");
  CHECK(plane.stats().extAuthzErrors == 2);
  // The closed connections report UAEX, as Envoy's network ext_authz sets it.
  auto uaex = [&] {
    auto closed = observer->tcpClosed();
    return std::count_if(closed.begin(), closed.end(), [](const auto& r) { return r.responseFlags == "UAEX"; });
  };
  CHECK(testing::eventually([&] { return uaex() == 2; }));
  plane.stop();
}
