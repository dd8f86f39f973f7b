// Test helpers: Envoy resources from protobuf text format (with expanded Any), so each test
// states its config in the shape an xDS server would send. Tests only.
#pragma once

#include <google/protobuf/text_format.h>

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

}  // namespace mesh::proxy::dataplane::testing
