// `proxy-config route`: the NAME / VHOST NAME / DOMAINS / MATCH / VIRTUAL SERVICE table and the
// -o json|yaml dump of the route configurations in a config dump (istioctl's route.go).
// Pure functions of the dump.
#pragma once

#include <string>
#include <vector>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"

namespace mesh::cli::pc {

struct RouteFilter {
  std::string name;  // exact route configuration name
  bool verbose = true;
  bool verify(const envoy::config::route::v3::RouteConfiguration& route) const {
    return name.empty() || name == route.name();
  }
};

// Dynamic then static route configurations, in istioctl's order (numeric names first compared).
Result<std::vector<envoy::config::route::v3::RouteConfiguration>> sortedRoutes(const ConfigDumpView& dump);

// namePrefix writes "route/<name>" in the NAME column (proxy-config all).
Result<std::string> routeSummary(const ConfigDumpView& dump, const RouteFilter& filter, bool namePrefix);
Result<std::string> routeDump(const ConfigDumpView& dump, const RouteFilter& filter, OutputFormat format);

// How a route match reads in the tables: "/prefix*", "PathPrefix:/p", "/exact", "regex re".
std::string describeMatch(const envoy::config::route::v3::RouteMatch& match);

}  // namespace mesh::cli::pc
