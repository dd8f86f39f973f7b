// `proxy-config cluster`: the SERVICE FQDN / PORT / SUBSET / DIRECTION / TYPE / DESTINATION RULE
// table and the -o json|yaml dump of the clusters in a config dump (istioctl's cluster.go).
// Pure functions of the dump.
#pragma once

#include <string>
#include <vector>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace mesh::cli::pc {

struct ClusterFilter {
  std::string fqdn;       // substring of the cluster name
  int port = 0;           // "|port|" in the name
  std::string subset;     // substring
  std::string direction;  // substring
  bool verify(const envoy::config::cluster::v3::Cluster& cluster) const;
};

// Dynamic active then static clusters, sorted by FQDN, subset, port, direction.
Result<std::vector<envoy::config::cluster::v3::Cluster>> sortedClusters(const ConfigDumpView& dump);

// namePrefix adds the NAME column with "cluster/<name>" (proxy-config all).
Result<std::string> clusterSummary(const ConfigDumpView& dump, const ClusterFilter& filter, bool namePrefix);
Result<std::string> clusterDump(const ConfigDumpView& dump, const ClusterFilter& filter, OutputFormat format);

}  // namespace mesh::cli::pc
