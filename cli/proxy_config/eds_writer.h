// `proxy-config eds` and the endpoint section of `proxy-config all`: the NAME / STATUS /
// LOCALITY / CLUSTER table and the -o json|yaml dump of the ClusterLoadAssignments in a config
// dump taken with include_eds=true (istioctl's configdump/endpoint.go). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace mesh::cli::pc {

struct EndpointFilter {
  std::string address;  // "ip:port", unix path or envoy://listener/id, case-insensitive
  uint32_t port = 0;
  std::string cluster;  // case-insensitive
  std::string status;   // HEALTHY, UNHEALTHY, ... case-insensitive
  bool verify(const envoy::config::endpoint::v3::LbEndpoint& ep, const std::string& clusterName) const;
};

// Assignments with at least one endpoint left after filtering, sorted like clusters.
Result<std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment>> filteredAssignments(
    const ConfigDumpView& dump, const EndpointFilter& filter);

// namePrefix writes "endpoint/<address>" in the NAME column (proxy-config all).
Result<std::string> edsSummary(const ConfigDumpView& dump, const EndpointFilter& filter, bool namePrefix);
Result<std::string> edsDump(const ConfigDumpView& dump, const EndpointFilter& filter, OutputFormat format);

}  // namespace mesh::cli::pc
