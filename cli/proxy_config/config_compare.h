// `proxy-status --file ENVOY --istiod-file ISTIOD`: does what Envoy runs match what istiod
// would send? Compares the dynamic clusters, listeners and routes of both dumps and prints
// "Clusters Match" or "Clusters Don't Match" with a unified diff, and the same for listeners
// and routes (istioctl's writer/compare). The time Envoy last loaded RDS is shown in the local
// time zone. Pure function otherwise.
#pragma once

#include <string>

#include "cli/proxy_config/config_dump.h"

namespace mesh::cli::pc {

std::string compareConfigs(const ConfigDumpView& istiod, const ConfigDumpView& envoy);

}  // namespace mesh::cli::pc
