// What meshproxy checks in an xDS resource before the data plane sees it, following what Envoy
// rejects at config load: every google.protobuf.Any names a type of the Envoy API and parses as
// it; every RE2 regex compiles within Envoy's default program size (100); names and required
// fields are present; ports fit in 16 bits; a route configuration's domains are unique.
// Pure functions, called on the xDS client's thread; the error message becomes the NACK's
// error_detail.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace mesh::proxy {

// Envoy's runtime default for re2.max_program_size.error_level.
inline constexpr int kMaxRegexProgramSize = 100;

Result<void> validateCluster(const envoy::config::cluster::v3::Cluster& cluster);
Result<void> validateLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla);
Result<void> validateListener(const envoy::config::listener::v3::Listener& listener);
Result<void> validateRouteConfiguration(const envoy::config::route::v3::RouteConfiguration& routes);

// The ClusterLoadAssignment name an EDS cluster waits for (eds_cluster_config.service_name, else
// the cluster's name); "" for clusters that need no EDS.
std::string edsServiceName(const envoy::config::cluster::v3::Cluster& cluster);

// The RouteConfiguration names the listener's HTTP connection managers fetch over RDS, sorted
// and unique. Filters whose config does not parse are skipped (validateListener reports them).
std::vector<std::string> rdsRouteNames(const envoy::config::listener::v3::Listener& listener);

}  // namespace mesh::proxy
