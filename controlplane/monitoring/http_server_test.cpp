// Starts the real server on 127.0.0.1:0 and talks to it with libcurl (well-formed requests) and
// a raw socket (the malformed and oversized ones curl will not send).
#include "controlplane/monitoring/http_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/monitoring/monitoring_routes.h"
#include "core/metrics/exposition.h"
#include "core/version.h"

namespace mesh::monitoring {
namespace {

struct CurlReply {
  long status = 0;
  std::string contentType;
  std::string headers;
  std::string body;
};

std::size_t appendTo(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

CurlReply curlRequest(std::uint16_t port, const std::string& path, const char* method = "GET") {
  CurlReply reply;
  CURL* curl = curl_easy_init();
  REQUIRE(curl != nullptr);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  if (std::string_view(method) == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (std::string_view(method) != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  }
  const CURLcode rc = curl_easy_perform(curl);
  CHECK_MESSAGE(rc == CURLE_OK, curl_easy_strerror(rc));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  char* contentType = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &contentType);
  if (contentType != nullptr) reply.contentType = contentType;
  curl_easy_cleanup(curl);
  return reply;
}

// Sends `bytes` on a fresh connection and returns everything the server sends back until it
// closes (or 5 s pass).
std::string rawExchange(std::uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

std::size_t count(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// A started monitoring server over its own registry, with a readiness switch.
struct Fixture {
  metrics::Registry registry;
  std::atomic<bool> ready{false};
  HttpServer server;

  explicit Fixture(HttpServerOptions options = {}) : server(routes(), options) {
    const auto started = server.start("127.0.0.1:0");
    REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
    REQUIRE(server.port() != 0);
  }

  RouteTable routes() {
    RouteTable table;
    REQUIRE(addMonitoringRoutes(table, registry, [this] {
      return ready ? Readiness{true, ""} : Readiness{false, "config not synced yet"};
    }));
    return table;
  }
};

}  // namespace

TEST_CASE("/ready answers 503 with the reason, then 200 once ready") {
  Fixture f;
  const CurlReply notReady = curlRequest(f.server.port(), "/ready");
  CHECK(notReady.status == 503);
  CHECK(notReady.body == "config not synced yet\n");
  f.ready = true;
  const CurlReply ready = curlRequest(f.server.port(), "/ready");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");
}

TEST_CASE("/metrics serves the registry in the Prometheus text format") {
  Fixture f;
  f.registry.counter("pilot_xds_pushes", "Pushes.", {"type"}).with({"cds"}).add(2);
  const CurlReply reply = curlRequest(f.server.port(), "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.contentType == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(reply.body ==
        "# HELP pilot_xds_pushes Pushes.\n"
        "# TYPE pilot_xds_pushes counter\n"
        "pilot_xds_pushes{type=\"cds\"} 2\n");
  CHECK(curlRequest(f.server.port(), "/metrics?debug=1").status == 200);  // query ignored

  const CurlReply head = curlRequest(f.server.port(), "/metrics", "HEAD");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.headers.find("Content-Length: " + std::to_string(reply.body.size())) !=
        std::string::npos);
}

TEST_CASE("/version is JSON with the build's version and revision") {
  Fixture f;
  const CurlReply reply = curlRequest(f.server.port(), "/version");
  CHECK(reply.status == 200);
  CHECK(reply.contentType == "application/json");
  const auto json = nlohmann::json::parse(reply.body);
  CHECK(json["version"] == std::string(kVersion));
  CHECK(json["revision"] == std::string(gitRevision()));
}

TEST_CASE("unknown paths are 404, other methods 405") {
  Fixture f;
  CHECK(curlRequest(f.server.port(), "/nope").status == 404);
  CHECK(curlRequest(f.server.port(), "/").status == 404);
  const CurlReply post = curlRequest(f.server.port(), "/metrics", "POST");
  CHECK(post.status == 405);
  CHECK(post.headers.find("Allow: GET, HEAD") != std::string::npos);
  CHECK(curlRequest(f.server.port(), "/ready", "DELETE").status == 405);
}

TEST_CASE("a malformed request gets 400 and the server keeps serving") {
  Fixture f;
  f.ready = true;
  const std::string reply = rawExchange(f.server.port(), "THIS IS NOT HTTP\r\n\r\n");
  CHECK(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  CHECK(rawExchange(f.server.port(), "GET /ready HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")
            .starts_with("HTTP/1.1 400 "));
  CHECK(curlRequest(f.server.port(), "/ready").status == 200);
}

TEST_CASE("oversized headers get 431 and oversized bodies 413") {
  Fixture f;
  f.ready = true;
  const std::string bigHeader =
      "GET /ready HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n";
  CHECK(rawExchange(f.server.port(), bigHeader).starts_with("HTTP/1.1 431 "));
  const std::string bigBody =
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" +
      std::string(64 * 1024, 'b');
  CHECK(rawExchange(f.server.port(), bigBody).starts_with("HTTP/1.1 413 "));
  CHECK(curlRequest(f.server.port(), "/ready").status == 200);
}

TEST_CASE("keep-alive: pipelined requests on one connection are all answered") {
  Fixture f;
  f.ready = true;
  const std::string reply =
      rawExchange(f.server.port(),
                  "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(count(reply, "HTTP/1.1 200 OK\r\n") == 3);
}

TEST_CASE("an idle connection is closed after the read timeout") {
  HttpServerOptions options;
  options.ioTimeout = std::chrono::milliseconds(200);
  Fixture f(options);
  const auto begin = std::chrono::steady_clock::now();
  CHECK(rawExchange(f.server.port(), "GET /ready HTTP/1.1\r\n").empty());  // never finished
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(3));
}

TEST_CASE("start() reports a port in use and a malformed address") {
  Fixture f;
  HttpServer second{RouteTable{}};
  const auto busy = second.start("127.0.0.1:" + std::to_string(f.server.port()));
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == ErrorCode::Unavailable);
  CHECK(busy.error().message.find("cannot listen on 127.0.0.1:") == 0);
  CHECK(second.port() == 0);

  for (const char* bad : {"127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "::1:80", ""}) {
    CAPTURE(bad);
    HttpServer s{RouteTable{}};
    const auto r = s.start(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::Usage);
  }
  CHECK_FALSE(f.server.start("127.0.0.1:0"));  // already started
}

TEST_CASE("stop() returns promptly with an idle keep-alive connection open") {
  Fixture f;
  f.ready = true;
  // A curl handle keeps its connection open after the transfer.
  CURL* curl = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(f.server.port()) + "/ready";
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CHECK(curl_easy_perform(curl) == CURLE_OK);

  const auto begin = std::chrono::steady_clock::now();
  f.server.stop();
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(2));
  f.server.stop();  // idempotent
  curl_easy_cleanup(curl);
}

}  // namespace mesh::monitoring
