// Test helpers: Envoy resources from protobuf text format (with expanded Any), so each test
// states its config in the shape an xDS server would send. Tests only.
#pragma once

#include <google/protobuf/text_format.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::proxy::dataplane::testing {

template <class Message>
Message parseText(const std::string& text) {
  Message m;
  if (!google::protobuf::TextFormat::ParseFromString(text, &m)) {
    throw std::runtime_error("test config does not parse as " + m.GetTypeName());
  }
  return m;
}

inline auto parseRoute(const std::string& t) {
  return parseText<envoy::config::route::v3::RouteConfiguration>(t);
}
inline auto parseCluster(const std::string& t) {
  return parseText<envoy::config::cluster::v3::Cluster>(t);
}
inline auto parseListener(const std::string& t) {
  return parseText<envoy::config::listener::v3::Listener>(t);
}
inline auto parseAssignment(const std::string& t) {
  return parseText<envoy::config::endpoint::v3::ClusterLoadAssignment>(t);
}

// A STATIC cluster `name` with one endpoint, 127.0.0.1:port; `extra` adds Cluster fields.
inline std::string loopbackCluster(const std::string& name, uint16_t port, const std::string& extra = "") {
  return "name: \"" + name + "\" type: STATIC connect_timeout { seconds: 1 } " + extra +
         " load_assignment { cluster_name: \"" + name +
         "\" endpoints { lb_endpoints { endpoint { address { socket_address { address: \"127.0.0.1\" port_value: " +
         std::to_string(port) + " } } } } } }";
}

// An HCM listener on an ephemeral loopback port sending every request to cluster "app", with
// `filters` (http_filters text) before the router.
inline std::string loopbackHttpListener(const std::string& name, const std::string& filters) {
  return "name: \"" + name + R"(" address { socket_address { address: "127.0.0.1" port_value: 0 } }
    filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
      [type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager] {
        stat_prefix: "inbound_0.0.0.0_8080" route_config { name: "r" virtual_hosts { name: "all" domains: ["*"]
          routes { match { prefix: "/" } route { cluster: "app" } } } }
        )" + filters + R"(
        http_filters { name: "envoy.filters.http.router" } } } } })";
}

}  // namespace mesh::proxy::dataplane::testing
