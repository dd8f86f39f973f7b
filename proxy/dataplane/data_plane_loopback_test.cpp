// The data plane end to end on loopback: an XdsSnapshot built here, backends started here,
// the real curl as the client. Routing by path and header, a 90/10 split, retries, timeouts,
// faults, local replies, smuggling shapes refused while a keep-alive client is still served,
// the TCP proxy with half-close, and an outbound bind standing in for iptables.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string staticCluster(const std::string& name, uint16_t port, const std::string& extra = "") {
  return "name: \"" + name + "\" type: STATIC connect_timeout { seconds: 1 } " + extra +
         " load_assignment { cluster_name: \"" + name +
         "\" endpoints { lb_endpoints { endpoint { address { socket_address { address: \"127.0.0.1\" port_value: " +
         std::to_string(port) + " } } } } } }";
}

const char* kRoutes = R"(
  name: "local"
  virtual_hosts {
    name: "all" domains: ["*"]
    routes { match { prefix: "/split" } route { weighted_clusters {
      clusters { name: "v1" weight { value: 90 } } clusters { name: "v2" weight { value: 10 } } } } }
    routes { match { prefix: "/hdr" headers { name: "x-version" string_match { exact: "v2" } } } route { cluster: "v2" } }
    routes { match { prefix: "/hdr" } route { cluster: "v1" } }
    routes { match { prefix: "/fail-every-other" } route { cluster: "v1"
      retry_policy { retry_on: "5xx" num_retries { value: 2 } retry_back_off { base_interval { nanos: 1000000 } } } } }
    routes { match { prefix: "/noretry/" } route { cluster: "v1" prefix_rewrite: "/fail-every-other/" } }
    routes { match { prefix: "/slow" } route { cluster: "v1" timeout { nanos: 300000000 } } }
    routes { match { prefix: "/fault-abort" } route { cluster: "v1" }
      typed_per_filter_config { key: "envoy.filters.http.fault" value {
        [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {
          abort { http_status: 429 percentage { numerator: 100 } } } } } }
    routes { match { prefix: "/fault-delay" } route { cluster: "v1" }
      typed_per_filter_config { key: "envoy.filters.http.fault" value {
        [type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault] {
          delay { fixed_delay { nanos: 300000000 } percentage { numerator: 100 } } } } } }
    routes { match { prefix: "/dead" } route { cluster: "dead" } }
    routes { match { prefix: "/empty" } route { cluster: "empty" } }
    routes { match { prefix: "/missing" } route { cluster: "nope" } }
    routes { match { path: "/direct" } direct_response { status: 200 body { inline_string: "hi" } } }
    routes { match { prefix: "/mirrored" } route { cluster: "v1" request_mirror_policies { cluster: "v2" } } }
    routes { match { prefix: "/limited" } route { cluster: "limited" } }
    routes { match { prefix: "/ejecting" } route { cluster: "half-dead" } }
    routes { match { prefix: "/v2only" } route { cluster: "v2" } response_headers_to_add { header { key: "x-route" value: "v2only" } } }
  })";

std::string httpListener(const std::string& name, const std::string& address, int port, bool bind,
                         const std::string& routes) {
  return "name: \"" + name + "\" address { socket_address { address: \"" + address + "\" port_value: " +
         std::to_string(port) + " } } " + (bind ? "" : "bind_to_port { value: false } ") +
         R"(filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" route_config { )" + routes + R"( }
        normalize_path { value: true } merge_slashes: true upgrade_configs { upgrade_type: "echo" }
        http_filters { name: "envoy.filters.http.fault" }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

struct Fixture {
  testing::TestBackend v1{"v1"};
  testing::TestBackend v2{"v2"};
  DataPlane plane{[] {
    DataPlaneOptions o;
    o.threads = 2;
    LocalBind b;
    b.listenAddress = "127.0.0.1";
    b.listenPort = 0;
    b.originalPort = 9999;
    o.localBinds.push_back(b);
    return o;
  }()};
  uint16_t httpPort = 0;
  uint16_t tcpPort = 0;
  uint16_t outboundPort = 0;

  Fixture() {
    auto snap = std::make_shared<XdsSnapshot>();
    auto addCluster = [&](const std::string& text) {
      auto c = testing::parseCluster(text);
      snap->clusters[c.name()].resource = c;
    };
    addCluster(staticCluster("v1", v1.port()));
    addCluster(staticCluster("v2", v2.port()));
    // Port 1 on loopback refuses connections.
    addCluster(staticCluster("dead", 1));
    addCluster("name: \"half-dead\" type: STATIC connect_timeout { seconds: 1 } "
               "outlier_detection { consecutive_gateway_failure { value: 1 } enforcing_consecutive_gateway_failure { value: 100 } "
               "max_ejection_percent { value: 50 } } load_assignment { cluster_name: \"half-dead\" endpoints { "
               "lb_endpoints { endpoint { address { socket_address { address: \"127.0.0.1\" port_value: 1 } } } } "
               "lb_endpoints { endpoint { address { socket_address { address: \"127.0.0.1\" port_value: " +
               std::to_string(v1.port()) + " } } } } } }");
    addCluster(staticCluster("limited", v1.port(),
                             "circuit_breakers { thresholds { max_requests { value: 1 } } }"));
    addCluster(R"(name: "empty" type: EDS connect_timeout { seconds: 1 } eds_cluster_config { service_name: "empty" })");
    auto addListener = [&](const std::string& text) {
      auto l = testing::parseListener(text);
      snap->listeners[l.name()].resource = l;
    };
    addListener(httpListener("http", "127.0.0.1", 0, true, kRoutes));
    addListener(httpListener("0.0.0.0_9999", "0.0.0.0", 9999, false, R"(name: "9999"
      virtual_hosts { name: "o" domains: ["*"] routes { match { prefix: "/" } route { cluster: "v2" } } })"));
    addListener(R"(name: "tcp" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: "v1" } } } })");
    auto applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane.start().has_value());
    httpPort = plane.boundPort("http").value_or(0);
    tcpPort = plane.boundPort("tcp").value_or(0);
    outboundPort = plane.boundPort(localBindName(BindDirection::Outbound, 0)).value_or(0);
    REQUIRE(httpPort != 0);
    REQUIRE(tcpPort != 0);
    REQUIRE(outboundPort != 0);
  }
  ~Fixture() { plane.stop(); }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(httpPort) + path; }
  // "CODE BODY" of one curl call.
  std::string curl(const std::string& path, const std::string& args = "") const {
    return testing::run("curl -s -m 10 -w ' %{http_code}' " + args + " '" + url(path) + "'");
  }
};

// A raw keep-alive client: sends bytes, reads one response (head + content-length body).
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  std::string readResponse() {
    boost::system::error_code ec;
    for (;;) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        std::string head = buffer_.substr(0, end);
        for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t cl = head.find("content-length: ");
        if (cl != std::string::npos) len = std::stoul(head.substr(cl + 16));
        if (buffer_.size() >= end + 4 + len) {
          std::string out = buffer_.substr(0, end + 4 + len);
          buffer_.erase(0, end + 4 + len);
          return out;
        }
      }
      char chunk[4096];
      size_t n = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) return buffer_;
      buffer_.append(chunk, n);
    }
  }
  // True when the server closed the connection (EOF) after what was read.
  bool closedByPeer() {
    boost::system::error_code ec;
    char c;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  // Raw bytes after the last response read (for upgraded connections).
  std::string readBytes(size_t n) {
    boost::system::error_code ec;
    while (buffer_.size() < n) {
      char chunk[4096];
      size_t got = socket_.read_some(asio::buffer(chunk), ec);
      if (ec) break;
      buffer_.append(chunk, got);
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, out.size());
    return out;
  }
  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  std::string buffer_;
};

}  // namespace

TEST_CASE("loopback: routing by path and header, local replies, response headers") {
  Fixture f;
  CHECK(f.curl("/hdr") == "backend=v1 path=/hdr body= 200");
  CHECK(f.curl("/hdr", "-H 'x-version: v2'") == "backend=v2 path=/hdr body= 200");
  CHECK(f.curl("/direct") == "hi 200");
  CHECK(f.curl("/empty") == "no healthy upstream 503");
  CHECK(f.curl("/missing") == " 503");
  std::string dead = f.curl("/dead");
  CHECK(dead.starts_with("upstream connect error or disconnect/reset before headers. reset reason: remote connection failure"));
  CHECK(dead.ends_with(" 503"));
  std::string headers = testing::run("curl -s -D - -o /dev/null '" + f.url("/v2only") + "'");
  CHECK(headers.find("x-route: v2only") != std::string::npos);
  CHECK(headers.find("server: envoy") != std::string::npos);
  // Path normalisation and merge_slashes before routing: //hdr/../v2only → /v2only.
  CHECK(f.curl("//x/..//v2only", "--path-as-is") == "backend=v2 path=/v2only body= 200");
  // Request id and x-forwarded-proto reach the backend.
  f.curl("/hdr");
  CHECK(f.v1.lastHeader("x-request-id").size() == 36);
  CHECK(f.v1.lastHeader("x-forwarded-proto") == "http");
  // A POST body (chunked from curl) arrives whole; Expect: 100-continue is answered.
  CHECK(f.curl("/hdr", "-H 'Transfer-Encoding: chunked' --data-binary hello") == "backend=v1 path=/hdr body=hello 200");
  CHECK(f.curl("/hdr", "-H 'Expect: 100-continue' --data-binary world") == "backend=v1 path=/hdr body=world 200");
}

TEST_CASE("loopback: a 90/10 weighted split over 1,000 keep-alive requests") {
  Fixture f;
  char path[] = "/tmp/mesh-curl-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream out(path);
    for (int i = 0; i < 1000; ++i) out << "url = \"" << f.url("/split") << "\"\noutput = \"/dev/null\"\n";
  }
  std::string result = testing::run("curl -s -m 60 -w '%header{x-backend}\\n' -K " + std::string(path));
  std::remove(path);
  std::map<std::string, int> counts;
  std::istringstream lines(result);
  for (std::string line; std::getline(lines, line);) ++counts[line];
  CHECK(counts["v1"] + counts["v2"] == 1000);
  CHECK(counts["v1"] >= 860);
  CHECK(counts["v1"] <= 940);
}

TEST_CASE("loopback: retries absorb a backend failing every other request") {
  Fixture f;
  for (int i = 0; i < 20; ++i) {
    CHECK(f.curl("/fail-every-other") == "backend=v1 path=/fail-every-other body= 200");
  }
  // Without a retry policy the 503s come through: 10 of 20 (the backend alternates).
  int failures = 0;
  for (int i = 0; i < 20; ++i) failures += f.curl("/noretry/x").ends_with(" 503");
  CHECK(failures == 10);
}

TEST_CASE("loopback: the route timeout gives 504, faults abort and delay") {
  Fixture f;
  CHECK(f.curl("/slow?ms=2000") == "upstream request timeout 504");
  CHECK(f.curl("/slow?ms=10") == "backend=v1 path=/slow?ms=10 body= 200");
  CHECK(f.curl("/fault-abort") == "fault filter abort 429");
  // The delay is a semantic check (the fault waits at least its fixed delay), not a speed test.
  auto start = std::chrono::steady_clock::now();
  CHECK(f.curl("/fault-delay") == "backend=v1 path=/fault-delay body= 200");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
}

TEST_CASE("loopback: smuggling shapes get 400 and close; a keep-alive client keeps being served") {
  Fixture f;
  RawClient keepAlive(f.httpPort);
  const std::string get = "GET /hdr HTTP/1.1\r\nHost: a\r\n\r\n";
  keepAlive.send(get);
  CHECK(keepAlive.readResponse().starts_with("HTTP/1.1 200"));
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"POST /hdr HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400"},
      {"POST /hdr HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", "HTTP/1.1 400"},
      {"POST /hdr HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd", "HTTP/1.1 400"},
      {"POST /hdr HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n", "HTTP/1.1 400"},
      {"GET /hdr HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", "HTTP/1.1 400"},
      {"GET /hdr HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n", "HTTP/1.1 400"},
      {"POST /hdr HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", "HTTP/1.1 501"},
      {"GET /hdr HTTP/1.1\r\nHost: a\r\n" + std::string(70 * 1024, 'x') + ": y\r\n\r\n", "HTTP/1.1 431"},
  };
  for (const auto& [bytes, expected] : shapes) {
    RawClient bad(f.httpPort);
    bad.send(bytes);
    std::string response = bad.readResponse();
    CHECK_MESSAGE(response.starts_with(expected), bytes.substr(0, 80));
    CHECK(bad.closedByPeer());
    keepAlive.send(get);
    CHECK(keepAlive.readResponse().starts_with("HTTP/1.1 200"));
  }
  // Two pipelined requests on one write come back in order.
  keepAlive.send(get + "GET /direct HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(keepAlive.readResponse().find("backend=v1") != std::string::npos);
  CHECK(keepAlive.readResponse().ends_with("hi"));
}

TEST_CASE("loopback: tcp_proxy carries bytes both ways and passes a half-close on") {
  Fixture f;
  CHECK(testing::run("curl -s -m 10 'http://127.0.0.1:" + std::to_string(f.tcpPort) + "/via-tcp'") ==
        "backend=v1 path=/via-tcp body=");
  RawClient c(f.tcpPort);
  c.send("GET /half HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  c.socket().shutdown(tcp::socket::shutdown_send);
  CHECK(c.readResponse().find("backend=v1 path=/half") != std::string::npos);
  CHECK(c.closedByPeer());
}

TEST_CASE("loopback: an outbound bind reaches the listener of its original port") {
  Fixture f;
  CHECK(testing::run("curl -s -m 10 'http://127.0.0.1:" + std::to_string(f.outboundPort) + "/x'") ==
        "backend=v2 path=/x body=");
}

TEST_CASE("loopback: a config swap applies to new requests; a bad one is refused and changes nothing") {
  Fixture f;
  auto snap = std::make_shared<XdsSnapshot>();
  auto c = testing::parseCluster(staticCluster("v2", f.v2.port()));
  snap->clusters["v2"].resource = c;
  auto l = testing::parseListener(httpListener("http", "127.0.0.1", f.httpPort, true, R"(name: "swapped"
      virtual_hosts { name: "o" domains: ["*"] routes { match { prefix: "/" } route { cluster: "v2" } } })"));
  snap->listeners["http"].resource = l;
  auto bad = std::make_shared<XdsSnapshot>(*snap);
  bad->routes["broken"].resource = testing::parseRoute(R"(name: "broken"
      virtual_hosts { name: "o" domains: ["*"] routes { match { safe_regex { regex: "(" } } route { cluster: "v2" } } })");
  CHECK_FALSE(f.plane.apply(bad).has_value());
  CHECK(f.curl("/hdr") == "backend=v1 path=/hdr body= 200");
  REQUIRE(f.plane.apply(snap).has_value());
  CHECK(f.curl("/hdr") == "backend=v2 path=/hdr body= 200");
}

TEST_CASE("loopback: mirroring is fire and forget; max_requests overflows with x-envoy-overloaded") {
  Fixture f;
  int before = f.v2.requests();
  CHECK(f.curl("/mirrored") == "backend=v1 path=/mirrored body= 200");
  for (int i = 0; i < 100 && f.v2.requests() == before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(f.v2.requests() == before + 1);
  CHECK(f.v2.lastHeader("host").find("-shadow") != std::string::npos);
  // Two at once through a cluster allowing one active request: the second overflows.
  int seen = f.v1.requests();
  std::string first;
  std::thread slow([&] { first = testing::run("curl -s -D - -o /dev/null '" + f.url("/limited/slow?ms=1000") + "'"); });
  for (int i = 0; i < 500 && f.v1.requests() == seen; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string second = testing::run("curl -s -D - -o /dev/null '" + f.url("/limited/x") + "'");
  slow.join();
  CHECK(first.starts_with("HTTP/1.1 200"));
  CHECK(second.starts_with("HTTP/1.1 503"));
  CHECK(second.find("x-envoy-overloaded: true") != std::string::npos);
}

TEST_CASE("loopback: outlier detection ejects the endpoint that refuses connections") {
  Fixture f;
  int failures = 0;
  for (int i = 0; i < 20; ++i) failures += f.curl("/ejecting").ends_with(" 503");
  // Round robin reaches the dead endpoint once; its gateway failure ejects it for 30 s.
  CHECK(failures == 1);
  for (const auto& c : f.plane.clusterStatuses()) {
    if (c.name != "half-dead") continue;
    REQUIRE(c.hosts.size() == 2);
    CHECK(c.hosts[0].ejected);  // port 1
    CHECK_FALSE(c.hosts[1].ejected);
  }
}

TEST_CASE("loopback: bodies above the buffer limit stream through, chunked or with a length") {
  Fixture f;
  char path[] = "/tmp/mesh-body-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::string big(3 * 1024 * 1024, 'z');
  REQUIRE(::write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size()));
  ::close(fd);
  std::string expected = "backend=v1 path=/hdr body=" + big + " 200";
  CHECK(f.curl("/hdr", "--data-binary @" + std::string(path)) == expected);
  CHECK(f.curl("/hdr", "-H 'Transfer-Encoding: chunked' --data-binary @" + std::string(path)) == expected);
  std::remove(path);
}

TEST_CASE("loopback: a listener that cannot bind NACKs the update; drain stops accepting") {
  Fixture f;
  auto snap = std::make_shared<XdsSnapshot>();
  snap->clusters["v1"].resource = testing::parseCluster(staticCluster("v1", f.v1.port()));
  // The port of a backend is taken: binding there must fail.
  auto taken = testing::parseListener(httpListener("taken", "127.0.0.1", f.v2.port(), true, R"(name: "t"
      virtual_hosts { name: "o" domains: ["*"] routes { match { prefix: "/" } route { cluster: "v1" } } })"));
  snap->listeners["taken"].resource = taken;
  auto result = f.plane.apply(snap);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message.find("cannot bind") != std::string::npos);
  CHECK(f.curl("/hdr") == "backend=v1 path=/hdr body= 200");  // the previous config still serves
  // A request in flight when the drain starts is answered, then its connection closes.
  RawClient open(f.httpPort);
  int seen = f.v1.requests();
  open.send("GET /limited/slow?ms=300 HTTP/1.1\r\nHost: a\r\n\r\n");
  for (int i = 0; i < 500 && f.v1.requests() == seen; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  f.plane.drain();
  CHECK(f.curl("/hdr") == " 000");  // no longer accepting
  std::string last = open.readResponse();
  CHECK_MESSAGE(last.starts_with("HTTP/1.1 200"), last);
  CHECK(last.find("connection: close") != std::string::npos);
  CHECK(open.closedByPeer());
}

TEST_CASE("loopback: an enabled upgrade switches to a raw relay; others get 403") {
  Fixture f;
  RawClient c(f.httpPort);
  c.send("GET /hdr HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst ");
  std::string head = c.readResponse();
  CHECK(head.starts_with("HTTP/1.1 101"));
  CHECK(head.find("upgrade: echo") != std::string::npos);
  c.send("second");
  CHECK(c.readBytes(12) == "first second");
  RawClient refused(f.httpPort);
  refused.send("GET /hdr HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: nope\r\n\r\n");
  CHECK(refused.readResponse().starts_with("HTTP/1.1 403"));
}
