// Builders of small Envoy resources for meshproxy's xDS tests (state machine, client, admin).
// Header-only; used from test threads only.
#pragma once

#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

namespace mesh::proxy::testing {

inline envoy::config::cluster::v3::Cluster edsCluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  c.set_type(envoy::config::cluster::v3::Cluster::EDS);
  c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  c.mutable_connect_timeout()->set_seconds(10);
  return c;
}

inline envoy::config::cluster::v3::Cluster staticCluster(const std::string& name, int port) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  c.set_type(envoy::config::cluster::v3::Cluster::STATIC);
  c.mutable_connect_timeout()->set_seconds(1);
  auto* cla = c.mutable_load_assignment();
  cla->set_cluster_name(name);
  auto* sa = cla->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(static_cast<uint32_t>(port));
  return c;
}

inline envoy::config::endpoint::v3::ClusterLoadAssignment loadAssignment(const std::string& name, int port) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  auto* lb = cla.add_endpoints()->add_lb_endpoints();
  auto* sa = lb->mutable_endpoint()->mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(static_cast<uint32_t>(port));
  return cla;
}

// A listener on 127.0.0.1:port whose HTTP connection manager takes route config `route` by RDS.
inline envoy::config::listener::v3::Listener httpListener(const std::string& name, int port, const std::string& route) {
  envoy::config::listener::v3::Listener l;
  l.set_name(name);
  auto* sa = l.mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(static_cast<uint32_t>(port));
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(route);
  hcm.mutable_rds()->mutable_config_source()->mutable_ads();
  auto* filter = l.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return l;
}

inline envoy::config::listener::v3::Listener tcpListener(const std::string& name, int port, const std::string& cluster) {
  envoy::config::listener::v3::Listener l;
  l.set_name(name);
  auto* sa = l.mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(static_cast<uint32_t>(port));
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  tcp.set_stat_prefix(name);
  tcp.set_cluster(cluster);
  auto* filter = l.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.tcp_proxy");
  filter->mutable_typed_config()->PackFrom(tcp);
  return l;
}

// One virtual host "*" routing `prefix` to `cluster`; a regex path match when `regex` is set.
inline envoy::config::route::v3::RouteConfiguration routeConfig(const std::string& name, const std::string& cluster,
                                                                const std::string& regex = "") {
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name(name);
  auto* vh = rc.add_virtual_hosts();
  vh->set_name("all");
  vh->add_domains(std::string("*"));
  auto* route = vh->add_routes();
  if (regex.empty()) route->mutable_match()->set_prefix("/");
  else route->mutable_match()->mutable_safe_regex()->set_regex(regex);
  route->mutable_route()->set_cluster(cluster);
  return rc;
}

}  // namespace mesh::proxy::testing
