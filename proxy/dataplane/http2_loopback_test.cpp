// HTTP/2 through the data plane on loopback, with config built here and real clients: curl
// --http2-prior-knowledge on an AUTO listener (HTTP/1.1 still served there) to an HTTP/1.1
// backend and to an HTTP/2 backend (a second data plane whose listener speaks only HTTP/2),
// h2load for 2,000 multiplexed requests, and gRPC's own client (tests/interop xds_client)
// calling the echo server through the proxy: OK calls, grpc-status and grpc-message carried in
// trailers, and UNAVAILABLE as a gRPC error once the backend is gone.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

namespace {

// How meshd marks an HTTP/2 or gRPC port (controlplane/xds/traffic_policy.cpp).
const char* kHttp2Upstream = R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
  value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
    explicit_http_config { http2_protocol_options { max_concurrent_streams { value: 50 } } } } } })";

std::string listener(const std::string& name, const std::string& codec, const std::string& routes) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" codec_type: )" + codec + R"(
        http2_protocol_options { max_concurrent_streams { value: 100 } initial_stream_window_size { value: 65535 } }
        route_config { )" + routes + R"( }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

DataPlaneOptions twoThreads() {
  DataPlaneOptions o;
  o.threads = 2;
  return o;
}

// A child process with its stdout on a pipe, killed with the test (PR_SET_PDEATHSIG) or by stop().
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
  }
  ~Child() {
    stop();
    if (out_ != nullptr) std::fclose(out_);
  }
  std::string readLine() {
    char line[256];
    return std::fgets(line, sizeof line, out_) != nullptr ? std::string(line) : std::string();
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// Starts tests/interop's echo server on a port it picks; returns the port.
uint16_t startEcho(Child& child) {
  std::string line = child.readLine();  // "listening on PORT"
  REQUIRE_MESSAGE(line.starts_with("listening on "), line);
  return static_cast<uint16_t>(std::stoi(line.substr(13)));
}

nlohmann::json callEcho(uint16_t port, int calls) {
  std::string out = testing::run(std::string(MESH_XDS_CLIENT) + " --target ipv4:127.0.0.1:" + std::to_string(port) +
                                 " --calls " + std::to_string(calls) + " --deadline-ms 5000 2>/dev/null");
  // The last line is the summary.
  while (!out.empty() && out.back() == '\n') out.pop_back();
  auto json = nlohmann::json::parse(out.substr(out.rfind('\n') + 1), nullptr, false);
  REQUIRE_MESSAGE(json.is_object(), out);
  return json;
}

// The echo server, healthy or failing on purpose, and the plane serving gRPC in front of it.
struct GrpcFixture {
  Child healthy{{MESH_ECHO_SERVER, "--port", "0", "--name", "echo-a"}};
  Child flaky{{MESH_ECHO_SERVER, "--port", "0", "--name", "echo-flaky", "--fail-rate", "0.5"}};
  uint16_t healthyPort = startEcho(healthy);
  uint16_t flakyPort = startEcho(flaky);
  DataPlane plane{twoThreads()};
  uint16_t port = 0;
  uint16_t flakyFront = 0;
  GrpcFixture() {
    auto snap = std::make_shared<XdsSnapshot>();
    for (auto [name, p] : {std::pair{"echo", healthyPort}, std::pair{"flaky", flakyPort}}) {
      auto c = testing::parseCluster(testing::loopbackCluster(name, p, kHttp2Upstream));
      snap->clusters[c.name()].resource = c;
    }
    auto add = [&](const std::string& text) {
      auto l = testing::parseListener(text);
      snap->listeners[l.name()].resource = l;
    };
    add(listener("grpc", "AUTO", R"(name: "g" virtual_hosts { name: "all" domains: ["*"]
        routes { match { prefix: "/" grpc {} } route { cluster: "echo" } } })"));
    add(listener("grpc-flaky", "HTTP2", R"(name: "f" virtual_hosts { name: "all" domains: ["*"]
        routes { match { prefix: "/" } route { cluster: "flaky" } } })"));
    auto applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane.start().has_value());
    port = plane.boundPort("grpc").value_or(0);
    flakyFront = plane.boundPort("grpc-flaky").value_or(0);
    REQUIRE(port != 0);
  }
  ~GrpcFixture() { plane.stop(); }
};

// The front plane (AUTO listener) and an HTTP/2-only plane behind it as the HTTP/2 backend.
struct Fixture {
  testing::TestBackend v1{"v1"};
  testing::TestBackend v2{"v2"};
  DataPlane backend{twoThreads()};
  DataPlane front{twoThreads()};
  uint16_t backendPort = 0;
  uint16_t port = 0;

  Fixture() {
    auto b = std::make_shared<XdsSnapshot>();
    b->clusters["v2"].resource = testing::parseCluster(testing::loopbackCluster("v2", v2.port()));
    b->listeners["h2only"].resource = testing::parseListener(listener("h2only", "HTTP2", R"(name: "b"
        virtual_hosts { name: "all" domains: ["*"] routes { match { prefix: "/" } route { cluster: "v2" } } })"));
    auto applied = backend.apply(b);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(backend.start().has_value());
    backendPort = backend.boundPort("h2only").value_or(0);
    REQUIRE(backendPort != 0);

    auto f = std::make_shared<XdsSnapshot>();
    f->clusters["h1"].resource = testing::parseCluster(testing::loopbackCluster("h1", v1.port()));
    f->clusters["h2"].resource = testing::parseCluster(testing::loopbackCluster("h2", backendPort, kHttp2Upstream));
    f->clusters["empty"].resource = testing::parseCluster(
        R"(name: "empty" type: EDS connect_timeout { seconds: 1 } eds_cluster_config { service_name: "empty" })");
    f->listeners["front"].resource = testing::parseListener(listener("front", "AUTO", R"(name: "front"
        virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/h2/" } route { cluster: "h2" } }
          routes { match { prefix: "/empty" } route { cluster: "empty" } }
          routes { match { path: "/direct" } direct_response { status: 200 body { inline_string: "hi" } } }
          routes { match { prefix: "/h1/" } route { cluster: "h1" } response_headers_to_add { header { key: "x-route" value: "h1" } } }
          routes { match { path: "/" } route { cluster: "h1" } } })"));
    applied = front.apply(f);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(front.start().has_value());
    port = front.boundPort("front").value_or(0);
    REQUIRE(port != 0);
  }
  ~Fixture() {
    front.stop();
    backend.stop();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  // "BODY CODE VERSION" of one curl call with HTTP/2 prior knowledge.
  std::string h2(const std::string& path, const std::string& args = "") const {
    return testing::run("curl -s -m 20 --http2-prior-knowledge -w ' %{http_code} %{http_version}' " + args + " '" +
                        url(path) + "'");
  }
};

int h2loadSucceeded(const std::string& output) {
  // "requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, ..."
  auto at = output.find(" succeeded");
  if (at == std::string::npos) return -1;
  auto start = output.rfind(' ', at - 1);
  return std::stoi(output.substr(start + 1, at - start - 1));
}

}  // namespace

TEST_CASE("loopback h2c: prior knowledge to HTTP/1.1 and HTTP/2 backends; HTTP/1.1 on the same listener") {
  Fixture f;
  CHECK(f.h2("/h1/x") == "backend=v1 path=/h1/x body= 200 2");
  CHECK(f.h2("/h1/post", "--data-binary hello") == "backend=v1 path=/h1/post body=hello 200 2");
  CHECK(f.h2("/direct") == "hi 200 2");
  CHECK(f.h2("/nothing-here") == " 404 2");
  CHECK(f.h2("/empty") == "no healthy upstream 503 2");
  std::string headers = testing::run("curl -s --http2-prior-knowledge -D - -o /dev/null '" + f.url("/h1/x") + "'");
  CHECK(headers.starts_with("HTTP/2 200"));
  CHECK(headers.find("x-route: h1") != std::string::npos);
  CHECK(headers.find("server: envoy") != std::string::npos);
  CHECK(f.v1.lastHeader("x-forwarded-proto") == "http");
  // Through the HTTP/2-only plane: h2c on both hops.
  uint64_t before = f.backend.stats().downstreamConnections;
  for (int i = 0; i < 20; ++i) CHECK(f.h2("/h2/y", "--data-binary abc") == "backend=v2 path=/h2/y body=abc 200 2");
  CHECK(f.h2("/h2/y") == "backend=v2 path=/h2/y body= 200 2");
  // One multiplexed connection per endpoint and worker: at most two new ones for 21 requests.
  CHECK(f.backend.stats().downstreamConnections - before <= 2);
  // An HTTP/1.1 client on the AUTO listener.
  CHECK(testing::run("curl -s -w ' %{http_code} %{http_version}' '" + f.url("/h1/z") + "'") ==
        "backend=v1 path=/h1/z body= 200 1.1");
  // curl --http2 asks to upgrade to h2c; the upgrade is declined and HTTP/1.1 answers.
  CHECK(testing::run("curl -s --http2 -w ' %{http_code} %{http_version}' '" + f.url("/h1/u") + "'") ==
        "backend=v1 path=/h1/u body= 200 1.1");
  CHECK(f.v1.lastHeader("upgrade").empty());
  // An HTTP/1.1 client on the HTTP/2-only listener gets no HTTP/1.1 answer.
  CHECK(testing::run("curl -s -m 5 -w ' %{http_code}' 'http://127.0.0.1:" + std::to_string(f.backendPort) + "/'") ==
        " 000");
}

TEST_CASE("loopback h2c: drain lets the stream in flight finish, then stops accepting") {
  Fixture f;
  std::string slow;
  int seen = f.v1.requests();
  std::thread inFlight([&] { slow = f.h2("/h1/slow?ms=500"); });
  for (int i = 0; i < 500 && f.v1.requests() == seen; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  f.front.drain();  // GOAWAY on the open connection
  inFlight.join();
  CHECK(slow == "backend=v1 path=/h1/slow?ms=500 body= 200 2");
  CHECK(f.h2("/h1/x") == " 000 0");
}

TEST_CASE("loopback h2c: bodies beyond the windows and the buffer limit stream through both hops") {
  Fixture f;
  char path[] = "/tmp/mesh-h2body-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::string big(3 * 1024 * 1024, 'q');
  REQUIRE(::write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size()));
  ::close(fd);
  CHECK(f.h2("/h1/big", "--data-binary @" + std::string(path)) == "backend=v1 path=/h1/big body=" + big + " 200 2");
  CHECK(f.h2("/h2/big", "--data-binary @" + std::string(path)) == "backend=v2 path=/h2/big body=" + big + " 200 2");
  std::remove(path);
}

TEST_CASE("loopback h2c: h2load, 2,000 requests on 10 connections with 10 streams each") {
  Fixture f;
  std::string direct = testing::run("h2load -n 2000 -c 10 -m 10 " + f.url("/") + " 2>&1");
  CHECK_MESSAGE(h2loadSucceeded(direct) == 2000, direct);
  std::string viaH2 = testing::run("h2load -n 2000 -c 10 -m 10 " + f.url("/h2/load") + " 2>&1");
  CHECK_MESSAGE(h2loadSucceeded(viaH2) == 2000, viaH2);
}

TEST_CASE("loopback grpc: gRPC's client through the proxy; trailers end to end; UNAVAILABLE when the backend is gone") {
  GrpcFixture g;
  auto ok = callEcho(g.port, 100);
  CHECK(ok["codes"]["OK"] == 100);
  CHECK(ok["servers"]["echo-a"] == 100);
  // grpc-status and grpc-message come back from the server in trailers, through the proxy.
  auto flaky = callEcho(g.flakyFront, 10);
  CHECK_MESSAGE(flaky["codes"]["OK"] == 5, flaky.dump());
  CHECK_MESSAGE(flaky["codes"]["UNAVAILABLE"] == 5, flaky.dump());
  CHECK(flaky["errors"]["UNAVAILABLE"].get<std::string>().find("failed call 2 on purpose") != std::string::npos);
  // The backend is gone: Envoy's local reply as a gRPC error (HTTP 200, grpc-status 14).
  g.healthy.stop();
  auto gone = callEcho(g.port, 3);
  CHECK(gone["codes"]["UNAVAILABLE"] == 3);
  CHECK(gone["errors"]["UNAVAILABLE"].get<std::string>().find("upstream connect error") != std::string::npos);
  std::string raw = testing::run("curl -s --http2-prior-knowledge -D - -o /dev/null -X POST -H 'content-type: application/grpc' "
                                 "'http://127.0.0.1:" + std::to_string(g.port) + "/meshtest.echo.Echo/Call'");
  CHECK(raw.starts_with("HTTP/2 200"));
  CHECK(raw.find("grpc-status: 14") != std::string::npos);
}

TEST_CASE("loopback grpc: a bidirectional stream flows both ways at once through the proxy") {
  GrpcFixture g;
  // Each message waits for the reply to the one before: a proxy that sent the request body
  // whole before reading the response would stall here until the deadline.
  std::string out = testing::run(std::string(MESH_XDS_CLIENT) + " --target ipv4:127.0.0.1:" + std::to_string(g.port) +
                                 " --chat 50 --deadline-ms 5000 2>/dev/null");
  auto json = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_MESSAGE(json.is_object(), out);
  CHECK(json["chat_replies"] == 50);
  CHECK(json["code"] == "OK");
  // The same stream again on the pooled upstream connection, and plain calls beside it.
  auto again = nlohmann::json::parse(testing::run(std::string(MESH_XDS_CLIENT) + " --target ipv4:127.0.0.1:" +
                                                  std::to_string(g.port) + " --chat 5 --deadline-ms 5000 2>/dev/null"),
                                     nullptr, false);
  CHECK(again["chat_replies"] == 5);
  CHECK(callEcho(g.port, 10)["codes"]["OK"] == 10);
}
