// Deadline and IdleDeadline (engine.h): the timers every request and connection uses. A
// Deadline without a time sets no timer; an IdleDeadline re-armed per request fires only once
// the latest arm() has run out, never after disarm() or its owner's end. On loopback: the
// HTTP/1.1 idle timeout closes a keep-alive connection only after its last request.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <thread>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("deadline: fires at its time; time_point::max() sets no timer") {
  asio::io_context ioc;
  int fired = 0;
  Deadline soon(ioc, Clock::now() + 20ms, [&fired] { ++fired; });
  Deadline never(ioc, Clock::time_point::max(), [&fired] { fired += 100; });
  ioc.run_for(200ms);
  CHECK(fired == 1);
  CHECK(soon.expired());
  CHECK_FALSE(never.expired());
}

TEST_CASE("deadline: gone before its time, it never runs") {
  asio::io_context ioc;
  int fired = 0;
  { Deadline gone(ioc, Clock::now() + 20ms, [&fired] { ++fired; }); }
  ioc.run_for(100ms);
  CHECK(fired == 0);
}

TEST_CASE("idle deadline: expires after the latest arm, not after disarm") {
  asio::io_context ioc;
  int fired = 0;
  Clock::time_point firedAt;
  IdleDeadline idle(ioc, [&] {
    ++fired;
    firedAt = Clock::now();
  });

  SUBCASE("re-arming pushes the expiry out without firing early") {
    auto start = Clock::now();
    idle.arm(60ms);
    asio::steady_timer rearm(ioc, 40ms);
    rearm.async_wait([&](boost::system::error_code) { idle.arm(60ms); });  // now due at ~100 ms
    ioc.run_for(300ms);
    CHECK(fired == 1);
    CHECK(firedAt - start >= 100ms);
  }
  SUBCASE("disarmed, it does not fire; armed again, it does") {
    idle.arm(30ms);
    idle.disarm();
    ioc.run_for(100ms);
    CHECK(fired == 0);
    ioc.restart();
    idle.arm(30ms);
    ioc.run_for(100ms);
    CHECK(fired == 1);
  }
  SUBCASE("a shorter arm moves a pending expiry earlier") {
    auto start = Clock::now();
    idle.arm(10s);
    idle.arm(30ms);
    ioc.run_for(300ms);
    CHECK(fired == 1);
    CHECK(firedAt - start < 300ms);
  }
}

TEST_CASE("idle deadline: destroyed while armed, it never runs") {
  asio::io_context ioc;
  int fired = 0;
  {
    IdleDeadline idle(ioc, [&fired] { ++fired; });
    idle.arm(20ms);
  }
  ioc.run_for(100ms);
  CHECK(fired == 0);
}

TEST_CASE("loopback idle timeout: a keep-alive connection closes once idle, not while used") {
  DataPlaneOptions options;
  options.threads = 1;
  DataPlane plane(options);
  auto snap = std::make_shared<XdsSnapshot>();
  auto listener = testing::parseListener(R"(name: "http"
    address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "http" common_http_protocol_options { idle_timeout { nanos: 300000000 } }
        route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } direct_response { status: 200 body { inline_string: "ok" } } } } }
        http_filters { name: "envoy.filters.http.router" } } } } })");
  snap->listeners["http"].resource = listener;
  auto applied = plane.apply(snap);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
  REQUIRE(plane.start().has_value());
  uint16_t port = plane.boundPort("http").value_or(0);
  REQUIRE(port != 0);

  asio::io_context ioc;
  tcp::socket client(ioc);
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  timeval limit{3, 0};  // a proxy that never closes fails the test instead of hanging it
  REQUIRE(::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == 0);
  auto exchange = [&client] {
    asio::write(client, asio::buffer(std::string_view("GET / HTTP/1.1\r\nhost: a\r\n\r\n")));
    std::string got;
    char chunk[1024];
    boost::system::error_code ec;
    while (got.find("\r\n\r\nok") == std::string::npos && !ec) got.append(chunk, client.read_some(asio::buffer(chunk), ec));
    return got.starts_with("HTTP/1.1 200");
  };
  // Four requests 200 ms apart: each wait is under the 300 ms timeout, together over it.
  for (int i = 0; i < 4; ++i) {
    CHECK(exchange());
    std::this_thread::sleep_for(200ms);
  }
  auto idleFrom = Clock::now();
  char c;
  boost::system::error_code ec;
  client.read_some(asio::buffer(&c, 1), ec);
  CHECK((ec == asio::error::eof || ec == asio::error::connection_reset));
  CHECK(Clock::now() - idleFrom < 1s);  // closed by the idle timeout, not by the 3 s limit
  plane.stop();
}
