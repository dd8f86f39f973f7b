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
  auto a = parseLocalBind("127.0.0.1:18080=8080", BindDirection::Outbound);
  REQUIRE(a.has_value());
  CHECK(a->direction == BindDirection::Outbound);
  CHECK(a->listenAddress == "127.0.0.1");
  CHECK(a->listenPort == 18080);
  CHECK(a->originalAddress == "0.0.0.0");
  CHECK(a->originalPort == 8080);
  auto b = parseLocalBind("127.0.0.2:1=10.0.0.5:3306", BindDirection::Outbound);
  REQUIRE(b.has_value());
  CHECK(b->originalAddress == "10.0.0.5");
  CHECK(b->originalPort == 3306);
  CHECK_FALSE(parseLocalBind("18080=8080", BindDirection::Outbound).has_value());
  CHECK_FALSE(parseLocalBind("127.0.0.1:18080", BindDirection::Outbound).has_value());
  CHECK_FALSE(parseLocalBind("127.0.0.1:99999=80", BindDirection::Outbound).has_value());
  CHECK_FALSE(parseLocalBind(":18080=80", BindDirection::Outbound).has_value());
  CHECK(localBindName(BindDirection::Outbound, 0) == "outbound-bind:0");
}

TEST_CASE("inbound bind specs") {
  // Alone, the listen address is the destination the inbound chains see.
  auto a = parseLocalBind("127.0.0.11:18081", BindDirection::Inbound);
  REQUIRE(a.has_value());
  CHECK(a->direction == BindDirection::Inbound);
  CHECK(a->listenAddress == "127.0.0.11");
  CHECK(a->listenPort == 18081);
  CHECK(a->originalAddress == "127.0.0.11");
  CHECK(a->originalPort == 18081);
  auto b = parseLocalBind("127.0.0.11:28081=18081", BindDirection::Inbound);
  REQUIRE(b.has_value());
  CHECK(b->originalAddress == "127.0.0.11");
  CHECK(b->originalPort == 18081);
  auto c = parseLocalBind("127.0.0.11:28081=10.0.0.5:18081", BindDirection::Inbound);
  REQUIRE(c.has_value());
  CHECK(c->originalAddress == "10.0.0.5");
  CHECK(c->originalPort == 18081);
  CHECK_FALSE(parseLocalBind("18081", BindDirection::Inbound).has_value());
  CHECK_FALSE(parseLocalBind("127.0.0.11:0", BindDirection::Inbound).has_value());
  CHECK_FALSE(parseLocalBind("127.0.0.11:18081=", BindDirection::Inbound).has_value());
  CHECK(localBindName(BindDirection::Inbound, 2) == "inbound-bind:2");
}

TEST_CASE("listener bind specs") {
  auto none = parseListenerBind("virtualOutbound=none");
  REQUIRE(none.has_value());
  CHECK(none->listener == "virtualOutbound");
  CHECK(none->disabled);
  auto moved = parseListenerBind("0.0.0.0_8080=127.0.0.1:18080");
  REQUIRE(moved.has_value());
  CHECK(moved->listener == "0.0.0.0_8080");
  CHECK_FALSE(moved->disabled);
  CHECK(moved->address == "127.0.0.1");
  CHECK(moved->port == 18080);
  auto ephemeral = parseListenerBind("virtualInbound=[::1]:0");
  REQUIRE(ephemeral.has_value());
  CHECK(ephemeral->address == "::1");
  CHECK(ephemeral->port == 0);
  CHECK_FALSE(parseListenerBind("virtualInbound").has_value());
  CHECK_FALSE(parseListenerBind("=127.0.0.1:1").has_value());
  CHECK_FALSE(parseListenerBind("virtualInbound=15006").has_value());  // an address is needed
  CHECK_FALSE(parseListenerBind("virtualInbound=localhost:15006").has_value());
  CHECK_FALSE(parseListenerBind("virtualInbound=127.0.0.1:70000").has_value());
}
