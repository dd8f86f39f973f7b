// Request trailers and streamed request bodies through the data plane on loopback, with real
// clients: nghttp (--trailer) sends HTTP/2 request trailers, a raw socket sends HTTP/1.1 chunked
// trailers, curl uploads multi-megabyte bodies. Trailers must reach HTTP/1.1 upstreams (chunked,
// with the cluster's enable_trailers) and HTTP/2 upstreams (a second plane, HTTP/2 only, in
// front of the Beast backend, which keeps trailer fields with the headers), also on a retry. An
// HTTP/1.1 upstream that answers after reading only the head of a large upload gets its answer
// through, and a normal large upload arrives byte-exact.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

namespace {

const char* kHttp2Upstream = R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
  value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
    explicit_http_config { http2_protocol_options {} } } } })";
// meshd's shape for an HTTP/1.1 port, with trailers enabled.
const char* kHttp1Trailers = R"(typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
  value { [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] {
    explicit_http_config { http_protocol_options { enable_trailers: true } } } } })";

std::string listener(const std::string& name, const std::string& codec, const std::string& hcmExtra,
                     const std::string& routes) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" codec_type: )" + codec + " " + hcmExtra + R"(
        route_config { )" + routes + R"( }
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

void startPlane(DataPlane& plane, const std::shared_ptr<XdsSnapshot>& snap) {
  auto applied = plane.apply(snap);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
  REQUIRE(plane.start().has_value());
}

// A file of `size` random bytes, removed with the object.
struct TempFile {
  std::string path;
  explicit TempFile(size_t size) {
    char name[] = "/tmp/mesh-reqbody-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::mt19937_64 rng(size);
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  ~TempFile() { std::remove(path.c_str()); }
};

int connectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Sends `request` (which asks for connection: close) and returns all that comes back.
std::string rawExchange(uint16_t port, const std::string& request) {
  int fd = connectLoopback(port);
  CHECK(sendAll(fd, request));
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// A chunked HTTP/1.1 request whose last chunk carries x-checksum.
std::string chunkedWithTrailers(const std::string& path, size_t bodyBytes) {
  std::string req = "POST " + path + " HTTP/1.1\r\nhost: app\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
  const size_t piece = 64 * 1024;
  for (size_t sent = 0; sent < bodyBytes; sent += piece) {
    size_t n = std::min(piece, bodyBytes - sent);
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    req += size + std::string(n, 't') + "\r\n";
  }
  return req + "0\r\nx-checksum: abc\r\n\r\n";
}

// An HTTP/1.1 server that answers after reading only the request head: /early413 with 413 and
// a close (leaving the body unread), anything else with 200 on a kept-alive connection that it
// then stops reading. Thread per connection; stops with the object.
class EarlyBackend {
 public:
  EarlyBackend() {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accepter_ = std::thread([this] {
      for (;;) {
        int fd = ::accept(listen_, nullptr, nullptr);
        if (fd < 0 || stopping_) {
          if (fd >= 0) ::close(fd);
          return;
        }
        workers_.emplace_back([this, fd] { serve(fd); });
      }
    });
  }
  ~EarlyBackend() {
    stopping_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    ::close(listen_);
    accepter_.join();
    for (auto& t : workers_) t.join();
  }
  uint16_t port() const { return port_; }
  int answered() const { return answered_.load(); }

 private:
  void serve(int fd) {
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) head += c;
    if (head.find("\r\n\r\n") != std::string::npos) {
      ++answered_;
      if (head.find(" /early413") != std::string::npos) {
        sendAll(fd, "HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\nconnection: close\r\n\r\ntoo big!");
      } else {
        sendAll(fd, "HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\naccepted early");
        // Read nothing for a while: the proxy must not wait for the body to go through.
        for (int i = 0; i < 30 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ::close(fd);
  }

  int listen_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> answered_{0};
  std::thread accepter_;
  std::vector<std::thread> workers_;
};

DataPlaneOptions withBodyLimit(uint64_t limit) {
  DataPlaneOptions o;
  o.threads = 2;
  o.maxRequestBodyBytes = limit;
  return o;
}

// front (AUTO; enable_trailers on "front", not on "strict") → HTTP/1.1 clusters and, over h2c,
// the backend plane (HTTP/2 only, buffering up to 16 MiB, enable_trailers towards the backend).
struct Fixture {
  testing::TestBackend app{"v1"};
  EarlyBackend early;
  DataPlane backend{withBodyLimit(16 * 1024 * 1024)};
  DataPlane front{withBodyLimit(1024 * 1024)};
  uint16_t port = 0;
  uint16_t strictPort = 0;

  Fixture() {
    auto b = std::make_shared<XdsSnapshot>();
    b->clusters["app"].resource = testing::parseCluster(
        testing::loopbackCluster("app", app.port(), kHttp1Trailers));
    b->listeners["h2only"].resource = testing::parseListener(listener("h2only", "HTTP2", "", R"(name: "b"
        virtual_hosts { name: "all" domains: ["*"] routes { match { prefix: "/" } route { cluster: "app" } } })"));
    startPlane(backend, b);
    uint16_t backendPort = backend.boundPort("h2only").value_or(0);
    REQUIRE(backendPort != 0);

    auto f = std::make_shared<XdsSnapshot>();
    auto cluster = [&](const std::string& name, uint16_t p, const std::string& extra) {
      f->clusters[name].resource = testing::parseCluster(testing::loopbackCluster(name, p, extra));
    };
    cluster("h1", app.port(), kHttp1Trailers);
    cluster("h1plain", app.port(), "");
    cluster("h2", backendPort, kHttp2Upstream);
    cluster("early", early.port(), "");
    std::string routes = R"(name: "r" virtual_hosts { name: "all" domains: ["*"]
        routes { match { prefix: "/h2/" } route { cluster: "h2" } }
        routes { match { prefix: "/plain/" } route { cluster: "h1plain" } }
        routes { match { prefix: "/early" } route { cluster: "early" } }
        routes { match { prefix: "/fail-every-other" } route { cluster: "h1" retry_policy { retry_on: "5xx" num_retries { value: 1 } } } }
        routes { match { prefix: "/" } route { cluster: "h1" } } })";
    f->listeners["front"].resource =
        testing::parseListener(listener("front", "AUTO", "http_protocol_options { enable_trailers: true }", routes));
    f->listeners["strict"].resource = testing::parseListener(listener("strict", "AUTO", "", routes));
    startPlane(front, f);
    port = front.boundPort("front").value_or(0);
    strictPort = front.boundPort("strict").value_or(0);
    REQUIRE(port != 0);
    REQUIRE(strictPort != 0);
  }
  ~Fixture() {
    front.stop();
    backend.stop();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  // nghttp: HTTP/2 with prior knowledge, the body from `file`, x-checksum as a request trailer.
  std::string nghttp(const std::string& path, const std::string& file) const {
    return testing::run("nghttp -d " + file + " --trailer 'x-checksum: abc' '" + url(path) + "' 2>&1");
  }
};

}  // namespace

TEST_CASE("loopback trailers: an HTTP/2 request's trailers reach HTTP/1.1 and HTTP/2 upstreams") {
  Fixture f;
  char small[] = "/tmp/mesh-trailers-XXXXXX";
  int fd = ::mkstemp(small);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "hello", 5) == 5);
  ::close(fd);
  // Buffered body, HTTP/1.1 upstream with enable_trailers: chunked, the trailer in the last chunk.
  CHECK(f.nghttp("/a", small).find("backend=v1 path=/a body=hello") != std::string::npos);
  CHECK(f.app.lastHeader("x-checksum") == "abc");
  // Without the cluster's enable_trailers they are dropped, as Envoy's HTTP/1 codec does.
  CHECK(f.nghttp("/plain/a", small).find("backend=v1 path=/plain/a body=hello") != std::string::npos);
  CHECK(f.app.lastHeader("x-checksum").empty());
  // HTTP/2 upstream: a trailers HEADERS frame; the backend plane passes them on.
  CHECK(f.nghttp("/h2/a", small).find("backend=v1 path=/h2/a body=hello") != std::string::npos);
  CHECK(f.app.lastHeader("x-checksum") == "abc");
  std::remove(small);
  // Streamed (over the front's 1 MiB buffer): after the last DATA frame, to the HTTP/2 upstream.
  TempFile big(3 * 1024 * 1024);
  int before = f.app.requests();
  std::string out = f.nghttp("/h2/big", big.path);
  CHECK_MESSAGE(out.find("backend=v1 path=/h2/big body=") != std::string::npos, out.substr(0, 300));
  CHECK(f.app.requests() == before + 1);
  CHECK(f.app.lastHeader("x-checksum") == "abc");
}

TEST_CASE("loopback trailers: HTTP/1.1 chunked request trailers with enable_trailers, also on a retry") {
  Fixture f;
  std::string reply = rawExchange(f.port, chunkedWithTrailers("/c", 5));
  CHECK(reply.starts_with("HTTP/1.1 200"));
  CHECK(reply.find("body=ttttt") != std::string::npos);
  CHECK(f.app.lastHeader("x-checksum") == "abc");
  // The HCM without enable_trailers drops them on the way in.
  reply = rawExchange(f.strictPort, chunkedWithTrailers("/c", 5));
  CHECK(reply.starts_with("HTTP/1.1 200"));
  CHECK(f.app.lastHeader("x-checksum").empty());
  // Through HTTP/2 to the backend plane, then HTTP/1.1 again.
  reply = rawExchange(f.port, chunkedWithTrailers("/h2/c", 5));
  CHECK(reply.starts_with("HTTP/1.1 200"));
  CHECK(f.app.lastHeader("x-checksum") == "abc");
  // A streamed body (3 MiB, chunked): the trailers follow in the last chunk upstream.
  reply = rawExchange(f.port, chunkedWithTrailers("/big", 3 * 1024 * 1024));
  CHECK(reply.starts_with("HTTP/1.1 200"));
  CHECK(f.app.lastHeader("x-checksum") == "abc");
  reply = rawExchange(f.port, chunkedWithTrailers("/h2/big", 3 * 1024 * 1024));
  CHECK(reply.starts_with("HTTP/1.1 200"));
  CHECK(f.app.lastHeader("x-checksum") == "abc");
  // A retry replays the buffered body with its trailers: the first try gets 503, the second 200.
  int before = f.app.requests();
  reply = rawExchange(f.port, chunkedWithTrailers("/fail-every-other", 5));
  CHECK(reply.starts_with("HTTP/1.1 200"));
  CHECK(f.app.requests() == before + 2);
  CHECK(reply.find("body=ttttt") != std::string::npos);
  CHECK(f.app.lastHeader("x-checksum") == "abc");
}

TEST_CASE("loopback streamed body: an HTTP/1.1 upstream's early answer gets through; large uploads arrive whole") {
  Fixture f;
  TempFile big(24 * 1024 * 1024);  // beyond the socket buffers on both hops
  auto curl = [&](const std::string& path, const std::string& args) {
    return testing::run("curl -s -m 30 -o /dev/null -w '%{http_code}' " + args + " --data-binary @" + big.path +
                        " '" + f.url(path) + "'");
  };
  // Answered after the head alone: 413 and close, then 200 with the body left unread.
  CHECK(curl("/early413", "") == "413");
  std::string early = testing::run("curl -s -m 30 --data-binary @" + big.path + " '" + f.url("/early200") + "'");
  CHECK(early == "accepted early");
  CHECK(curl("/early413", "-H 'transfer-encoding: chunked'") == "413");
  CHECK(f.early.answered() == 3);
  // The proxy keeps serving, on new connections to the early backend too.
  CHECK(testing::run("curl -s '" + f.url("/ok") + "'") == "backend=v1 path=/ok body=");
  CHECK(curl("/early413", "") == "413");

  // A normal large upload, with a length and chunked, arrives byte-exact.
  std::string want = testing::run("sha256sum < " + big.path + " | cut -d' ' -f1");
  for (std::string args : {"", "-H 'transfer-encoding: chunked'"}) {
    std::string got = testing::run("curl -s -m 60 " + args + " --data-binary @" + big.path + " '" + f.url("/up") +
                                   "' | tail -c +" + std::to_string(std::string("backend=v1 path=/up body=").size() + 1) +
                                   " | sha256sum | cut -d' ' -f1");
    CHECK_MESSAGE(got == want, args);
  }
  CHECK(testing::run("curl -s '" + f.url("/ok") + "'") == "backend=v1 path=/ok body=");
}
