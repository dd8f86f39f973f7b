// compileSnapshot(): validates an XdsSnapshot once and turns it into a RuntimeConfig. An error
// names the resource and field; the xDS client NACKs with it and the proxy keeps its config.
// Pure (no I/O, no clocks): called on the xDS client's thread and in unit tests.
#pragma once

#include <memory>

#include "core/result.h"
#include "proxy/dataplane/runtime_config.h"
#include "proxy/xds/xds_snapshot.h"

namespace mesh::proxy::dataplane {

Result<std::shared_ptr<const RuntimeConfig>> compileSnapshot(const XdsSnapshot& snapshot);

// The pieces, exposed for tests and for RDS-only updates.
Result<std::shared_ptr<const RouteConfig>> compileRouteConfig(
    const envoy::config::route::v3::RouteConfiguration& config);
Result<std::shared_ptr<const Cluster>> compileCluster(
    const envoy::config::cluster::v3::Cluster& cluster,
    const envoy::config::endpoint::v3::ClusterLoadAssignment* edsAssignment);
Result<std::shared_ptr<const Listener>> compileListener(
    const envoy::config::listener::v3::Listener& listener);

}  // namespace mesh::proxy::dataplane
