// Filter chain selection (Envoy's match order) and the outbound bind flag syntax.
#include <doctest/doctest.h>

#include "proxy/dataplane/config_compiler.h"
#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/filter_chain_select.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy::dataplane;

namespace {

std::string chain(const std::string& name, const std::string& match) {
  return "filter_chains { name: \"" + name + "\" filter_chain_match { " + match +
         R"( } filters { name: "envoy.filters.network.tcp_proxy" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "s" cluster: "c" } } } })";
}

}  // namespace

TEST_CASE("filter chains: port, then prefix length, then protocols, then default") {
  auto l = testing::parseListener(
      R"(name: "virtualInbound" address { socket_address { address: "0.0.0.0" port_value: 15006 } })" +
      chain("any", "") + chain("port-8080", "destination_port { value: 8080 }") +
      chain("port-8080-http", "destination_port { value: 8080 } application_protocols: [\"http/1.1\", \"h2c\"]") +
      chain("wide", "prefix_ranges { address_prefix: \"10.0.0.0\" prefix_len { value: 8 } }") +
      chain("narrow", "prefix_ranges { address_prefix: \"10.1.0.0\" prefix_len { value: 16 } }") +
      chain("tls", "destination_port { value: 9443 } transport_protocol: \"tls\"") +
      R"(default_filter_chain { name: "fallback" filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "s" cluster: "p" } } } })");
  auto compiled = compileListener(l);
  REQUIRE_MESSAGE(compiled.has_value(), compiled.error().message);
  auto pick = [&](ConnectionInfo info) {
    const FilterChain* c = selectFilterChain(**compiled, info);
    return c ? c->name : std::string("<none>");
  };
  ConnectionInfo info;
  info.destinationAddress = "192.168.1.1";
  info.destinationPort = 8080;
  CHECK(pick(info) == "port-8080");
  info.applicationProtocols = {"http/1.1"};
  CHECK(pick(info) == "port-8080-http");
  info.destinationPort = 1234;
  CHECK(pick(info) == "any");
  info.destinationAddress = "10.9.9.9";
  CHECK(pick(info) == "wide");
  info.destinationAddress = "10.1.2.3";
  CHECK(pick(info) == "narrow");
  info.destinationPort = 9443;
  CHECK(pick(info) == "fallback");  // the port matches, the transport protocol does not
  info.transportProtocol = "tls";
  CHECK(pick(info) == "tls");
}

TEST_CASE("outbound bind specs") {
  auto a = parseOutboundBind("127.0.0.1:18080=8080");
  REQUIRE(a.has_value());
  CHECK(a->listenAddress == "127.0.0.1");
  CHECK(a->listenPort == 18080);
  CHECK(a->originalAddress == "0.0.0.0");
  CHECK(a->originalPort == 8080);
  auto b = parseOutboundBind("127.0.0.2:1=10.0.0.5:3306");
  REQUIRE(b.has_value());
  CHECK(b->originalAddress == "10.0.0.5");
  CHECK(b->originalPort == 3306);
  CHECK_FALSE(parseOutboundBind("18080=8080").has_value());
  CHECK_FALSE(parseOutboundBind("127.0.0.1:18080").has_value());
  CHECK_FALSE(parseOutboundBind("127.0.0.1:99999=80").has_value());
}
