// `proxy-config all` without -o: bootstrap, cluster, listener, route, secret and endpoint
// tables one after another, names prefixed with their kind ("cluster/...") and, with
// --with-headers, a "------ CLUSTER INFO ------" banner over each (istioctl's PrintFullSummary).
// Pure function of the dump.
#pragma once

#include <ctime>
#include <string>

#include "cli/proxy_config/cluster_writer.h"
#include "cli/proxy_config/eds_writer.h"
#include "cli/proxy_config/listener_writer.h"
#include "cli/proxy_config/route_writer.h"

namespace mesh::cli::pc {

struct FullSummaryOptions {
  ClusterFilter clusters;
  ListenerFilter listeners;
  RouteFilter routes;
  EndpointFilter endpoints;
  bool withHeaders = false;
  std::time_t now = 0;
};

// The output printed before an error is kept in `printed`, as istioctl has already written it.
Result<std::string> fullSummary(const ConfigDumpView& dump, const FullSummaryOptions& options, std::string& printed);

}  // namespace mesh::cli::pc
