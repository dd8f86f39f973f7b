// DestinationRule connection pool settings as meshd emits them, end to end on loopback with
// curl and raw sockets: max_requests_per_connection, the pool's idle_timeout and
// max_connection_duration, upstream TCP keepalive (the proxy's socket seen in /proc/net/tcp),
// tcp_proxy's idle_timeout and max_downstream_connection_duration; and the compiler's checks.
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/socket_options.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// HttpProtocolOptions' common options, as meshd packs them.
std::string commonOptions(const std::string& common) {
  return R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value {
      [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
        common_http_protocol_options { )" + common + R"( } explicit_http_config { http_protocol_options {} } } } })";
}

std::string tcpListener(const std::string& name, const std::string& cluster, const std::string& extra) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.tcp_proxy" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "t" cluster: ")" +
         cluster + "\" " + extra + " } } } }";
}

// One backend per cluster, so each counts only its own connections; one worker, so one pool.
struct PoolFixture {
  testing::TestBackend perConn{"per-conn"};
  testing::TestBackend idle{"idle"};
  testing::TestBackend plain{"plain"};
  testing::TestBackend aged{"aged"};
  testing::TestBackend tcpBackend{"tcp"};
  DataPlane plane{[] {
    DataPlaneOptions o;
    o.threads = 1;
    return o;
  }()};
  uint16_t httpPort = 0;
  uint16_t tcpIdlePort = 0;
  uint16_t tcpAgedPort = 0;

  PoolFixture() {
    auto snap = std::make_shared<XdsSnapshot>();
    auto addCluster = [&](const std::string& text) {
      auto c = testing::parseCluster(text);
      snap->clusters[c.name()].resource = c;
    };
    addCluster(testing::loopbackCluster("per-conn", perConn.port(), commonOptions("max_requests_per_connection { value: 2 }")));
    addCluster(testing::loopbackCluster("idle", idle.port(), commonOptions("idle_timeout { nanos: 200000000 }")));
    addCluster(testing::loopbackCluster("plain", plain.port()));
    addCluster(testing::loopbackCluster("aged", aged.port(), commonOptions("max_connection_duration { nanos: 300000000 }")));
    addCluster(testing::loopbackCluster(
        "tcp", tcpBackend.port(),
        "upstream_connection_options { tcp_keepalive { keepalive_probes { value: 3 } keepalive_time { value: 42 } "
        "keepalive_interval { value: 5 } } }"));
    auto l = testing::parseListener(R"(name: "http" address { socket_address { address: "127.0.0.1" port_value: 0 } }
      filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
          stat_prefix: "http" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
            routes { match { prefix: "/per-conn" } route { cluster: "per-conn" } }
            routes { match { prefix: "/idle" } route { cluster: "idle" } }
            routes { match { prefix: "/plain" } route { cluster: "plain" } }
            routes { match { prefix: "/aged" } route { cluster: "aged" } } } }
          http_filters { name: "envoy.filters.http.router" } } } } })");
    snap->listeners[l.name()].resource = l;
    for (const auto& text : {tcpListener("tcp-idle", "tcp", "idle_timeout { nanos: 300000000 }"),
                             tcpListener("tcp-aged", "tcp", "max_downstream_connection_duration { nanos: 400000000 }")}) {
      auto t = testing::parseListener(text);
      snap->listeners[t.name()].resource = t;
    }
    auto applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane.start().has_value());
    httpPort = plane.boundPort("http").value_or(0);
    tcpIdlePort = plane.boundPort("tcp-idle").value_or(0);
    tcpAgedPort = plane.boundPort("tcp-aged").value_or(0);
    REQUIRE(httpPort != 0);
    REQUIRE(tcpIdlePort != 0);
    REQUIRE(tcpAgedPort != 0);
  }
  ~PoolFixture() { plane.stop(); }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(httpPort) + path; }
  // Status codes of `count` requests on one keep-alive client connection.
  std::string curlKeepAlive(const std::string& path, int count) const {
    std::string urls;
    for (int i = 0; i < count; ++i) urls += " -o /dev/null '" + url(path) + "'";
    return testing::run("curl -s -m 10 -w '%{http_code} '" + urls);
  }
};

template <class Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// The `tr` (timer kind) and `tm->when` (in USER_HZ ticks) columns of /proc/net/tcp for the
// loopback socket whose remote port is `remotePort`.
std::optional<std::pair<int, long>> tcpTimerTowards(uint16_t remotePort) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want[16];
  std::snprintf(want, sizeof want, ":%04X", remotePort);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer;
    fields >> sl >> local >> remote >> state >> queues >> timer;
    if (!remote.ends_with(want) || state != "01") continue;  // ESTABLISHED
    return std::make_pair(std::stoi(timer.substr(0, 2), nullptr, 16), std::stol(timer.substr(3), nullptr, 16));
  }
  return std::nullopt;
}

// Sends one HTTP/1.1 request through a tcp_proxy listener on a connection it keeps open.
struct TcpClient {
  asio::io_context ioc;
  tcp::socket socket{ioc};
  explicit TcpClient(uint16_t port) { socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  std::string exchange() {
    std::string req = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
    asio::write(socket, asio::buffer(req));
    char buf[4096];
    size_t n = socket.read_some(asio::buffer(buf));
    return std::string(buf, n);
  }
  bool closedByPeer() {
    boost::system::error_code ec;
    char c;
    socket.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
};

}  // namespace

TEST_CASE("loopback connection pool: max_requests_per_connection 2 opens a new upstream connection every 2 requests") {
  PoolFixture f;
  CHECK(f.curlKeepAlive("/per-conn", 6) == "200 200 200 200 200 200 ");
  CHECK(f.perConn.requests() == 6);
  CHECK(f.perConn.connections() == 3);
  // Without the limit one pooled connection carries them all.
  CHECK(f.curlKeepAlive("/plain", 6) == "200 200 200 200 200 200 ");
  CHECK(f.plain.connections() == 1);
}

TEST_CASE("loopback connection pool: idle_timeout closes a pooled connection; without it the connection stays") {
  PoolFixture f;
  auto start = std::chrono::steady_clock::now();
  CHECK(f.curlKeepAlive("/idle", 2) == "200 200 ");
  CHECK(f.curlKeepAlive("/plain", 1) == "200 ");
  REQUIRE(f.idle.connections() == 1);
  // The proxy closes it once idle for 200 ms: the backend sees the close without any request.
  CHECK(waitFor([&] { return f.idle.closedConnections() == 1; }, std::chrono::milliseconds(3000)));
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
  CHECK(f.plain.closedConnections() == 0);
  CHECK(f.curlKeepAlive("/idle", 1) == "200 ");
  CHECK(f.idle.connections() == 2);
  CHECK(f.curlKeepAlive("/plain", 1) == "200 ");
  CHECK(f.plain.connections() == 1);
}

TEST_CASE("loopback connection pool: max_connection_duration retires a busy pooled connection") {
  PoolFixture f;
  for (int i = 0; i < 10; ++i) {
    CHECK(f.curlKeepAlive("/aged", 1) == "200 ");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // ~1 s of requests every 100 ms over connections that live 300 ms.
  CHECK(f.aged.connections() >= 3);
  CHECK(f.aged.connections() <= 6);
  // An idle connection past its duration is closed by the pool, not kept.
  CHECK(waitFor([&] { return f.aged.closedConnections() == f.aged.connections(); }, std::chrono::milliseconds(3000)));
}

TEST_CASE("loopback connection pool: upstream tcp_keepalive on the proxy's socket; tcp_proxy idle timeout") {
  PoolFixture f;
  TcpClient client(f.tcpIdlePort);
  CHECK(client.exchange().starts_with("HTTP/1.1 200"));
  // The proxy's upstream socket (remote port = the backend's) has its keepalive timer pending
  // at keepalive_time (42 s = 4200 ticks) — without SO_KEEPALIVE no timer is set while idle.
  auto timer = tcpTimerTowards(f.tcpBackend.port());
  REQUIRE(timer.has_value());
  CHECK(timer->first == 2);
  CHECK(timer->second > 3500);
  CHECK(timer->second <= 4200);
  // idle_timeout 300 ms: both sides closed once nothing moves.
  auto start = std::chrono::steady_clock::now();
  CHECK(client.closedByPeer());
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(200));
  CHECK(waited < std::chrono::milliseconds(3000));
  CHECK(waitFor([&] { return f.tcpBackend.closedConnections() == 1; }, std::chrono::milliseconds(3000)));
}

TEST_CASE("loopback connection pool: tcp_proxy max_downstream_connection_duration closes a busy connection") {
  PoolFixture f;
  TcpClient client(f.tcpAgedPort);
  auto start = std::chrono::steady_clock::now();
  int served = 0;
  boost::system::error_code ec;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    std::string req = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
    asio::write(client.socket, asio::buffer(req), ec);
    if (ec) break;
    char buf[4096];
    client.socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    ++served;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto lasted = std::chrono::steady_clock::now() - start;
  CHECK(served >= 2);
  CHECK(lasted >= std::chrono::milliseconds(350));
  CHECK(lasted < std::chrono::milliseconds(2000));
}

TEST_CASE("socket options: setTcpKeepalive sets SO_KEEPALIVE and the fields given") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  auto get = [fd](int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    ::getsockopt(fd, level, name, &v, &len);
    return v;
  };
  int defaultIdle = get(IPPROTO_TCP, TCP_KEEPIDLE);
  TcpKeepaliveConfig k;
  k.probes = 4;
  k.intervalSeconds = 7;
  CHECK(setTcpKeepalive(fd, k));
  CHECK(get(SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(get(IPPROTO_TCP, TCP_KEEPCNT) == 4);
  CHECK(get(IPPROTO_TCP, TCP_KEEPINTVL) == 7);
  CHECK(get(IPPROTO_TCP, TCP_KEEPIDLE) == defaultIdle);  // unset: the system's
  k.timeSeconds = 30;
  CHECK(setTcpKeepalive(fd, k));
  CHECK(get(IPPROTO_TCP, TCP_KEEPIDLE) == 30);
  ::close(fd);
}

TEST_CASE("compiler: connection pool options compile; out-of-range keepalive values are NACKed") {
  auto ok = compileCluster(testing::parseCluster(testing::loopbackCluster(
      "c", 1,
      "upstream_connection_options { tcp_keepalive { keepalive_time { value: 30 } } } " +
          commonOptions("idle_timeout { seconds: 0 } max_connection_duration { seconds: 90 } "
                        "max_requests_per_connection { value: 5 }"))),
                           nullptr);
  REQUIRE_MESSAGE(ok.has_value(), ok.error().message);
  CHECK((*ok)->poolIdleTimeout.count() == 0);  // 0: never closed for idleness
  CHECK((*ok)->maxConnectionDuration == std::chrono::milliseconds(90'000));
  CHECK((*ok)->maxRequestsPerConnection == 5);
  REQUIRE((*ok)->tcpKeepalive.has_value());
  CHECK((*ok)->tcpKeepalive->timeSeconds == 30u);
  CHECK_FALSE((*ok)->tcpKeepalive->probes.has_value());
  auto defaults = compileCluster(testing::parseCluster(testing::loopbackCluster("d", 1)), nullptr);
  REQUIRE(defaults.has_value());
  CHECK((*defaults)->poolIdleTimeout == std::chrono::milliseconds(3'600'000));  // Envoy's 1 h
  CHECK_FALSE((*defaults)->tcpKeepalive.has_value());
  auto bad = compileCluster(testing::parseCluster(testing::loopbackCluster(
                                "b", 1, "upstream_connection_options { tcp_keepalive { keepalive_probes { value: 0 } } }")),
                            nullptr);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("keepalive_probes") != std::string::npos);
}
