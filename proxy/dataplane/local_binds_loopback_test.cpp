// Local mode's binds on loopback, with the real curl: --inbound-bind serving virtualInbound's
// chains by the original destination it stands for, --listener-bind moving an xDS listener to
// another address or keeping it from binding at all (many sidecars and gateways on one host).
#include <doctest/doctest.h>

#include <string>

#include "proxy/dataplane/data_plane.h"
#include "proxy/dataplane/test_backend.h"
#include "proxy/dataplane/test_config.h"

using namespace mesh::proxy;
using namespace mesh::proxy::dataplane;

namespace {

std::string staticCluster(const std::string& name, uint16_t port) {
  return "name: \"" + name + "\" type: STATIC connect_timeout { seconds: 1 } load_assignment { cluster_name: \"" +
         name + "\" endpoints { lb_endpoints { endpoint { address { socket_address { address: \"127.0.0.1\" "
                "port_value: " +
         std::to_string(port) + " } } } } } }";
}

std::string hcm(const std::string& cluster) {
  return R"(filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "in" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } route { cluster: ")" +
         cluster + R"(" } } } }
        http_filters { name: "envoy.filters.http.router" } } } })";
}

// Istio's sidecar shape: virtualInbound on 15006 picks a chain by the original destination
// port; a gateway listener on 0.0.0.0:8080.
std::shared_ptr<XdsSnapshot> sidecarAndGatewaySnapshot(uint16_t v1Port, uint16_t v2Port) {
  auto snap = std::make_shared<XdsSnapshot>();
  for (auto [name, port] : {std::pair{"inbound|18081||", v1Port}, std::pair{"gateway-target", v2Port}}) {
    auto c = testing::parseCluster(staticCluster(name, port));
    snap->clusters[c.name()].resource = c;
  }
  auto addListener = [&](const std::string& text) {
    auto l = testing::parseListener(text);
    snap->listeners[l.name()].resource = l;
  };
  addListener(R"(name: "virtualInbound" traffic_direction: INBOUND
    address { socket_address { address: "0.0.0.0" port_value: 15006 } }
    filter_chains { name: "virtualInbound-blackhole" filter_chain_match { destination_port { value: 15006 } }
      filters { name: "envoy.filters.network.tcp_proxy" typed_config {
        [type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy] { stat_prefix: "b" cluster: "BlackHoleCluster" } } } }
    filter_chains { name: "0.0.0.0_18081" filter_chain_match { destination_port { value: 18081 } } )" +
              hcm("inbound|18081||") + " }");
  addListener(R"(name: "0.0.0.0_8080" address { socket_address { address: "0.0.0.0" port_value: 8080 } }
    filter_chains { )" + hcm("gateway-target") + " }");
  return snap;
}

std::string curl(uint16_t port, const std::string& path) {
  return testing::run("curl -s -m 10 -w ' %{http_code}' 'http://127.0.0.1:" + std::to_string(port) + path + "'");
}

}  // namespace

TEST_CASE("loopback: inbound binds serve virtualInbound's chain for their original port; listener binds move or drop listeners") {
  testing::TestBackend app{"app"};
  testing::TestBackend edge{"edge"};
  DataPlaneOptions options;
  options.threads = 2;
  // Two inbound binds on ephemeral ports: one stands for the workload port 18081, one for a
  // port no inbound chain matches (its connections are closed, as Envoy does without a chain).
  for (uint16_t original : {18081, 18082}) {
    LocalBind b;
    b.direction = BindDirection::Inbound;
    b.listenAddress = "127.0.0.1";
    b.originalAddress = "127.0.0.1";
    b.originalPort = original;
    options.localBinds.push_back(b);
  }
  auto none = parseListenerBind("virtualInbound=none");
  auto moved = parseListenerBind("0.0.0.0_8080=127.0.0.1:0");
  REQUIRE(none.has_value());
  REQUIRE(moved.has_value());
  options.listenerBinds = {*none, *moved};
  DataPlane plane(options);
  auto snap = sidecarAndGatewaySnapshot(app.port(), edge.port());
  auto applied = plane.apply(snap);
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
  REQUIRE(plane.start().has_value());

  // virtualInbound itself is not bound: 15006 stays free for another sidecar on this host.
  CHECK_FALSE(plane.boundPort("virtualInbound").has_value());
  auto workload = plane.boundPort(localBindName(BindDirection::Inbound, 0));
  auto unmatched = plane.boundPort(localBindName(BindDirection::Inbound, 1));
  auto gateway = plane.boundPort("0.0.0.0_8080");
  REQUIRE(workload.has_value());
  REQUIRE(unmatched.has_value());
  REQUIRE(gateway.has_value());
  CHECK(*gateway != 8080);

  CHECK(curl(*workload, "/orders") == "backend=app path=/orders body= 200");
  CHECK(curl(*unmatched, "/orders") == " 000");  // no chain for 18082: closed without a response
  CHECK(curl(*gateway, "/pay") == "backend=edge path=/pay body= 200");
  CHECK(app.requests() == 1);

  // The same config again keeps the moved listener where it is; still nothing on 15006.
  REQUIRE(plane.apply(sidecarAndGatewaySnapshot(app.port(), edge.port())).has_value());
  CHECK(plane.boundPort("0.0.0.0_8080") == gateway);
  CHECK_FALSE(plane.boundPort("virtualInbound").has_value());
  CHECK(curl(*gateway, "/again") == "backend=edge path=/again body= 200");
  plane.stop();
}

TEST_CASE("loopback: an outbound and an inbound bind side by side keep their directions") {
  testing::TestBackend app{"app"};
  testing::TestBackend upstream{"upstream"};
  DataPlaneOptions options;
  options.threads = 1;
  LocalBind in;
  in.direction = BindDirection::Inbound;
  in.originalAddress = "127.0.0.1";
  in.originalPort = 18081;
  LocalBind out;  // port 8080 outbound: the gateway-shaped listener 0.0.0.0_8080 owns it
  out.originalPort = 8080;
  options.localBinds = {out, in};
  options.listenerBinds = {*parseListenerBind("virtualInbound=none"), *parseListenerBind("0.0.0.0_8080=none")};
  DataPlane plane(options);
  REQUIRE(plane.apply(sidecarAndGatewaySnapshot(app.port(), upstream.port())).has_value());
  REQUIRE(plane.start().has_value());
  CHECK_FALSE(plane.boundPort("0.0.0.0_8080").has_value());
  auto inbound = plane.boundPort(localBindName(BindDirection::Inbound, 0));
  auto outbound = plane.boundPort(localBindName(BindDirection::Outbound, 0));
  REQUIRE(inbound.has_value());
  REQUIRE(outbound.has_value());
  CHECK(curl(*inbound, "/in") == "backend=app path=/in body= 200");
  CHECK(curl(*outbound, "/out") == "backend=upstream path=/out body= 200");
  plane.stop();
}
