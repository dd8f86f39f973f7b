// `proxy-config endpoint`: the ENDPOINT / STATUS / OUTLIER CHECK / CLUSTER table and the
// -o json|yaml dump of an Envoy /clusters?format=json answer (istioctl's writer/envoy/clusters).
// envoy.admin.v3.Clusters has no generated C++ here, so it is read through the TypeRegistry.
// Pure functions.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cli/proxy_config/output.h"
#include "core/result.h"

namespace mesh::cli::pc {

struct ClustersEndpointFilter {
  std::string address;  // the host's IP (or "unix://path"), case-insensitive
  uint32_t port = 0;
  std::string cluster;  // case-insensitive
  std::string status;   // EDS health status name, case-insensitive
};

// Parses /clusters?format=json into an envoy.admin.v3.Clusters message.
Result<std::unique_ptr<google::protobuf::Message>> parseClusters(std::string_view json);

std::string endpointSummary(const google::protobuf::Message& clusters, const ClustersEndpointFilter& filter);
std::string endpointDump(const google::protobuf::Message& clusters, const ClustersEndpointFilter& filter,
                         OutputFormat format);

}  // namespace mesh::cli::pc
