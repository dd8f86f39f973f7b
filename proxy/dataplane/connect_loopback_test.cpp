// CONNECT and the stream idle timeout end to end on loopback. CONNECT: curl's proxy tunnel
// (-p -x) through a route with connect_matcher and connect_config (terminated here), raw clients
// for bytes pipelined after the head and a half-close, the HTTP/2 codec's client side for an h2
// CONNECT stream (no CLI client sends one), a CONNECT forwarded to a second proxy, 403 and 404
// when CONNECT is not enabled or not routed. Stream idle: a backend that never answers (504
// "stream timeout" over HTTP/1.1 and HTTP/2, the route's idle_timeout over the HCM's) and one that
// stalls mid-body (the response is cut off).
#include <doctest/doctest.h>

#include "proxy/dataplane/asio_includes.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/http2_codec.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"
#include "proxy/dataplane/test_observer.h"
#include "proxy/telemetry/request_observer.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using testing::eventually;

// Backends that misbehave on purpose: `silent` accepts (the kernel does) and never answers;
// `stalling` answers a head with content-length 100, sends 2 bytes and then nothing.
struct BadBackends {
  asio::io_context ioc;
  tcp::acceptor silent{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::acceptor stalling{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::vector<std::shared_ptr<tcp::socket>> held;
  std::thread thread;
  BadBackends() {
    acceptStalling();
    thread = std::thread([this] { ioc.run(); });
  }
  ~BadBackends() {
    ioc.stop();
    thread.join();
  }
  void acceptStalling() {
    auto s = std::make_shared<tcp::socket>(ioc);
    stalling.async_accept(*s, [this, s](boost::system::error_code ec) {
      if (ec) return;
      held.push_back(s);
      auto buf = std::make_shared<std::array<char, 4096>>();
      s->async_read_some(asio::buffer(*buf), [s, buf](boost::system::error_code, size_t) {
        static const std::string head = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nab";
        asio::async_write(*s, asio::buffer(head), [s](boost::system::error_code, size_t) {});
      });
      acceptStalling();
    });
  }
  uint16_t silentPort() const { return silent.local_endpoint().port(); }
  uint16_t stallingPort() const { return stalling.local_endpoint().port(); }
};

std::string hcm(const std::string& name, const std::string& options, const std::string& routes) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" )" + options + " route_config { name: \"r\" " + routes + R"( }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

// "tunnel": CONNECT terminated to v1 (HTTP/1.1 and h2 with allow_connect), stream idle 1.5 s
// for the rest. "plain": no CONNECT upgrade and no allow_connect. "forward" (added once
// "tunnel" has its port): CONNECT forwarded to "tunnel" as a request.
const char* kTunnelRoutes = R"(virtual_hosts { name: "all" domains: ["*"]
  routes { match { connect_matcher {} } route { cluster: "v1" upgrade_configs { upgrade_type: "CONNECT" connect_config {} } } }
  routes { match { prefix: "/route-idle" } route { cluster: "silent" timeout { seconds: 0 } idle_timeout { nanos: 100000000 } } }
  routes { match { prefix: "/silent" } route { cluster: "silent" timeout { seconds: 0 } } }
  routes { match { prefix: "/stall" } route { cluster: "stalling" timeout { seconds: 0 } } }
  routes { match { prefix: "/" } route { cluster: "v1" } } })";
const char* kPlainRoutes = R"(virtual_hosts { name: "refused" domains: ["refused.example:80"]
  routes { match { connect_matcher {} } route { cluster: "v1" } } }
  virtual_hosts { name: "all" domains: ["*"] routes { match { prefix: "/" } route { cluster: "v1" } } })";
const char* kForwardRoutes = R"(virtual_hosts { name: "all" domains: ["*"]
  routes { match { connect_matcher {} } route { cluster: "tunnel" upgrade_configs { upgrade_type: "CONNECT" } } } })";

struct ConnectFixture {
  testing::TestBackend v1{"v1"};
  BadBackends bad;
  std::shared_ptr<testing::RecordingObserver> records = std::make_shared<testing::RecordingObserver>();
  DataPlane plane{[this] {
    DataPlaneOptions o;
    o.threads = 2;
    o.observer = records;
    return o;
  }()};
  std::shared_ptr<XdsSnapshot> snap = std::make_shared<XdsSnapshot>();
  uint16_t tunnelPort = 0, plainPort = 0, forwardPort = 0;

  ConnectFixture() {
    addCluster(testing::loopbackCluster("v1", v1.port()));
    addCluster(testing::loopbackCluster("silent", bad.silentPort()));
    addCluster(testing::loopbackCluster("stalling", bad.stallingPort()));
    addListener(hcm("tunnel",
                    R"(upgrade_configs { upgrade_type: "CONNECT" } stream_idle_timeout { seconds: 1 nanos: 500000000 }
                       http2_protocol_options { allow_connect: true })",
                    kTunnelRoutes));
    addListener(hcm("plain", "", kPlainRoutes));
    auto applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    REQUIRE(plane.start().has_value());
    tunnelPort = plane.boundPort("tunnel").value_or(0);
    plainPort = plane.boundPort("plain").value_or(0);
    // The second proxy hop: a cluster on "tunnel"'s port, and a listener forwarding CONNECT to it.
    snap = std::make_shared<XdsSnapshot>(*snap);
    addCluster(testing::loopbackCluster("tunnel", tunnelPort));
    addListener(hcm("forward", R"(upgrade_configs { upgrade_type: "CONNECT" })", kForwardRoutes));
    applied = plane.apply(snap);
    REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
    forwardPort = plane.boundPort("forward").value_or(0);
    REQUIRE(tunnelPort != 0);
    REQUIRE(plainPort != 0);
    REQUIRE(forwardPort != 0);
  }
  ~ConnectFixture() { plane.stop(); }
  void addCluster(const std::string& text) {
    auto c = testing::parseCluster(text);
    snap->clusters[c.name()].resource = c;
  }
  void addListener(const std::string& text) {
    auto l = testing::parseListener(text);
    snap->listeners[l.name()].resource = l;
  }
  std::string proxy(uint16_t port) const { return "http://127.0.0.1:" + std::to_string(port); }
};

// A blocking client: bytes out, bytes in until a head (and content-length body) or EOF.
struct Raw {
  asio::io_context ioc;
  tcp::socket socket{ioc};
  std::string buffer;
  explicit Raw(uint16_t port) { socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  void send(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  std::string readHead() {
    while (buffer.find("\r\n\r\n") == std::string::npos && readSome()) {
    }
    size_t end = buffer.find("\r\n\r\n");
    std::string head = buffer.substr(0, end == std::string::npos ? buffer.size() : end + 4);
    buffer.erase(0, head.size());
    return head;
  }
  std::string readToEof() {
    while (readSome()) {
    }
    return std::exchange(buffer, std::string());
  }
  bool readSome() {
    char chunk[4096];
    boost::system::error_code ec;
    size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) return false;
    buffer.append(chunk, n);
    return true;
  }
};

// One HTTP/2 stream driven with the data plane's own codec, client side, over a blocking socket.
class H2Client : public Http2Codec::Events {
 public:
  explicit H2Client(uint16_t port) : raw_(port) {
    auto codec = Http2Codec::create(Http2Codec::Role::Client, Http2Codec::Limits{}, *this);
    REQUIRE(codec.has_value());
    codec_ = std::move(*codec);
  }
  int32_t open(const HeaderMap& head) {
    auto id = codec_->submitRequest(head, false);
    REQUIRE(id.has_value());
    flush();
    return *id;
  }
  void sendData(int32_t id, std::string_view bytes, bool end) {
    codec_->sendData(id, bytes, end);
    flush();
  }
  // Reads until `done` holds or the connection ends; false on EOF first.
  bool readUntil(const std::function<bool()>& done) {
    while (!done()) {
      char chunk[16384];
      boost::system::error_code ec;
      size_t n = raw_.socket.read_some(asio::buffer(chunk), ec);
      if (ec) return false;
      codec_->receive(std::string_view(chunk, n));
      flush();
    }
    return true;
  }
  std::string status, data;
  bool ended = false, closed = false;
  uint32_t closeCode = 0;

  void onHeaders(int32_t, HeaderMap headers, bool endStream) override {
    if (auto s = headers.get(":status")) status = std::string(*s);
    ended = ended || endStream;
  }
  void onData(int32_t stream, std::string_view bytes) override {
    data.append(bytes);
    codec_->consume(stream, bytes.size());
  }
  void onEndStream(int32_t) override { ended = true; }
  void onStreamClose(int32_t, uint32_t errorCode) override {
    closed = true;
    closeCode = errorCode;
  }

 private:
  void flush() {
    std::string out = codec_->takeOutput();
    if (!out.empty()) raw_.send(out);
  }
  Raw raw_;
  std::unique_ptr<Http2Codec> codec_;
};

HeaderMap connectHead(const std::string& authority) {
  HeaderMap h;
  h.add(":method", "CONNECT");
  h.add(":authority", authority);
  return h;
}

}  // namespace

TEST_CASE("loopback connect: curl's proxy tunnel through a terminated CONNECT reaches the backend") {
  ConnectFixture f;
  std::string out = testing::run("curl -s -m 10 -p -x " + f.proxy(f.tunnelPort) +
                                 " -w ' %{http_code} %{http_connect}' http://anywhere.example:80/tunnelled");
  CHECK_MESSAGE(out.starts_with("backend=v1 path=/tunnelled"), out);
  CHECK_MESSAGE(out.ends_with(" 200 200"), out);
  // The tunnel is reported as a request: CONNECT, 200, the bytes each way.
  CHECK(eventually([&] {
    for (const auto& r : f.records->records()) {
      if (r.method == "CONNECT" && r.responseCode == 200 && r.upstreamCluster == "v1" && r.bytesReceived > 0 &&
          r.bytesSent > 0 && r.upstreamHost == "127.0.0.1:" + std::to_string(f.v1.port())) {
        return true;
      }
    }
    return false;
  }));
  // Plain requests on the same listener are still routed by path.
  CHECK(testing::run("curl -s -m 10 " + f.proxy(f.tunnelPort) + "/plain").starts_with("backend=v1 path=/plain"));
}

TEST_CASE("loopback connect: bytes pipelined after the head, and a half-close, pass through") {
  ConnectFixture f;
  Raw c(f.tunnelPort);
  c.send("CONNECT backend:80 HTTP/1.1\r\nHost: backend:80\r\n\r\nGET /pipelined HTTP/1.1\r\nHost: b\r\n\r\n");
  std::string head = c.readHead();
  CHECK_MESSAGE(head.starts_with("HTTP/1.1 200 OK\r\n"), head);
  CHECK(head.find("content-length") == std::string::npos);
  CHECK(head.find("transfer-encoding") == std::string::npos);
  // The client is done sending: the backend sees EOF after its request, answers, and closes.
  c.socket.shutdown(tcp::socket::shutdown_send);
  std::string rest = c.readToEof();
  CHECK_MESSAGE(rest.find("backend=v1 path=/pipelined") != std::string::npos, rest);
}

TEST_CASE("loopback connect: not enabled gets 403, not routed gets 404, and the connection closes") {
  ConnectFixture f;
  Raw refused(f.plainPort);
  refused.send("CONNECT refused.example:80 HTTP/1.1\r\nHost: refused.example:80\r\n\r\n");
  std::string head = refused.readHead();
  CHECK_MESSAGE(head.starts_with("HTTP/1.1 403"), head);
  refused.readToEof();  // closed: nothing after a refused CONNECT is read as a request
  Raw unrouted(f.plainPort);
  unrouted.send("CONNECT other.example:80 HTTP/1.1\r\nHost: other.example:80\r\n\r\n");
  head = unrouted.readHead();
  CHECK_MESSAGE(head.starts_with("HTTP/1.1 404"), head);
  unrouted.readToEof();
  // Path routes never match CONNECT: "tunnel"'s catch-all prefix route did not take these.
  CHECK(f.v1.requests() == 0);
}

TEST_CASE("loopback connect: an HTTP/2 CONNECT stream carries the tunnel, END_STREAM as half-close") {
  ConnectFixture f;
  H2Client c(f.tunnelPort);
  int32_t id = c.open(connectHead("backend:80"));
  REQUIRE(c.readUntil([&] { return !c.status.empty() || c.closed; }));
  CHECK(c.status == "200");
  c.sendData(id, "GET /over-h2 HTTP/1.1\r\nHost: b\r\n\r\n", true);
  REQUIRE(c.readUntil([&] { return c.ended || c.closed; }));
  CHECK_MESSAGE(c.data.find("backend=v1 path=/over-h2") != std::string::npos, c.data);
  CHECK(c.ended);
  // Without allow_connect the stream is reset, as Envoy's codec does.
  H2Client refused(f.plainPort);
  refused.open(connectHead("refused.example:80"));
  REQUIRE(refused.readUntil([&] { return refused.closed; }));
  CHECK(refused.closeCode != 0);
  CHECK(refused.status.empty());
}

TEST_CASE("loopback connect: CONNECT without connect_config is forwarded to the next proxy") {
  ConnectFixture f;
  std::string out = testing::run("curl -s -m 10 -p -x " + f.proxy(f.forwardPort) +
                                 " -w ' %{http_code} %{http_connect}' http://anywhere.example:80/two-hops");
  CHECK_MESSAGE(out.starts_with("backend=v1 path=/two-hops"), out);
  CHECK_MESSAGE(out.ends_with(" 200 200"), out);
}

TEST_CASE("loopback stream idle: a backend that never answers gets 504 stream timeout") {
  ConnectFixture f;
  auto start = std::chrono::steady_clock::now();
  std::string out = testing::run("curl -s -m 10 -w ' %{http_code}' " + f.proxy(f.tunnelPort) + "/silent");
  auto took = std::chrono::steady_clock::now() - start;
  // The request was all received: Envoy answers 504 (408 while it is still arriving).
  CHECK_MESSAGE(out == "stream timeout 504", out);
  CHECK(took >= std::chrono::milliseconds(1400));
  CHECK(took < std::chrono::seconds(5));
  // The route's idle_timeout (100 ms) overrides the HCM's, over HTTP/2 as well.
  start = std::chrono::steady_clock::now();
  out = testing::run("curl -s -m 10 --http2-prior-knowledge -w ' %{http_code} %{http_version}' " +
                     f.proxy(f.tunnelPort) + "/route-idle");
  took = std::chrono::steady_clock::now() - start;
  CHECK_MESSAGE(out == "stream timeout 504 2", out);
  CHECK(took < std::chrono::milliseconds(1200));
  CHECK(eventually([&] {
    for (const auto& r : f.records->records()) {
      if (r.path == "/silent" && r.responseCode == 504 && r.responseCodeDetails == "stream_idle_timeout") return true;
    }
    return false;
  }));
  // A keep-alive connection is still served after the timeout, and the next request is timed
  // afresh (the connection's idle timer was handed back).
  Raw c(f.tunnelPort);
  c.send("GET /silent HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string head = c.readHead();
  CHECK_MESSAGE(head.starts_with("HTTP/1.1 504"), head);
  c.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
  c.buffer.clear();
  head = c.readHead();
  CHECK_MESSAGE(head.find("HTTP/1.1 200") != std::string::npos, head);
}

TEST_CASE("loopback stream idle: a response that stalls mid-body is cut off") {
  ConnectFixture f;
  auto start = std::chrono::steady_clock::now();
  std::string out = testing::run("curl -s -m 10 -w ' %{http_code} %{exitcode}' " + f.proxy(f.tunnelPort) + "/stall");
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_MESSAGE(out == "ab 200 18", out);  // 18: transfer closed with data outstanding
  CHECK(took < std::chrono::seconds(5));
  out = testing::run("curl -s -m 10 --http2-prior-knowledge -w ' %{http_code} %{exitcode}' " + f.proxy(f.tunnelPort) +
                     "/stall");
  CHECK_MESSAGE(out.starts_with("ab 200 "), out);
  CHECK_MESSAGE(!out.ends_with(" 0"), out);  // the stream was reset, not ended
}
