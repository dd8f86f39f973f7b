// Endpoints of one service port (optionally one subset) → an Envoy ClusterLoadAssignment,
// grouped by locality with per-locality weights (gRPC drops localities without one). Shared
// by the Envoy EDS generator and the gRPC generator; stateless.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "controlplane/model/service.h"
#include "core/yaml/node.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace mesh::xds {

// `subsetLabels`: a DestinationRule subset's labels mapping; nullptr for all endpoints.
// `includeUnhealthy`: Envoy gets unhealthy endpoints marked as such; gRPC only healthy ones.
// `groups`, when given, receives the model endpoints of each LocalityLbEndpoints in order (for
// locality load balancing's failoverPriority).
envoy::config::endpoint::v3::ClusterLoadAssignment buildLoadAssignment(
    const std::string& clusterName, std::span<const model::Endpoint> endpoints, const core::Node* subsetLabels,
    bool includeUnhealthy, std::vector<std::vector<const model::Endpoint*>>* groups = nullptr);

}  // namespace mesh::xds
