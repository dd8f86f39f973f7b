#include "cli/proxy_config/cluster_writer.h"

#include <fmt/format.h>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/istio_names.h"
#include "cli/proxy_config/tabwriter.h"

namespace mesh::cli::pc {

using envoy::config::cluster::v3::Cluster;

bool ClusterFilter::verify(const Cluster& cluster) const {
  const std::string& name = cluster.name();
  if (fqdn.empty() && port == 0 && subset.empty() && direction.empty()) return true;
  if (!fqdn.empty() && name.find(fqdn) == std::string::npos) return false;
  if (!direction.empty() && name.find(direction) == std::string::npos) return false;
  if (!subset.empty() && name.find(subset) == std::string::npos) return false;
  if (port != 0 && name.find(fmt::format("|{}|", port)) == std::string::npos) return false;
  return true;
}

Result<std::vector<Cluster>> sortedClusters(const ConfigDumpView& dump) {
  auto section = dump.clusters();
  if (!section) return Failure(section.error());
  std::vector<Cluster> clusters;
  for (const auto& c : section->dynamic_active_clusters()) {
    if (!c.has_cluster()) continue;
    Cluster typed;
    if (!unpackAny(c.cluster(), typed)) return fail(ErrorCode::InvalidInput, "cannot decode a dynamic cluster");
    clusters.push_back(std::move(typed));
  }
  for (const auto& c : section->static_clusters()) {
    if (!c.has_cluster()) continue;
    Cluster typed;
    if (!unpackAny(c.cluster(), typed)) return fail(ErrorCode::InvalidInput, "cannot decode a static cluster");
    clusters.push_back(std::move(typed));
  }
  if (clusters.empty()) return fail(ErrorCode::InvalidInput, "no clusters found");
  goSortSlice(clusters, [](const Cluster& a, const Cluster& b) {
    SubsetKey i = safelyParseSubsetKey(a.name()), j = safelyParseSubsetKey(b.name());
    if (i.hostname != j.hostname) return i.hostname < j.hostname;
    if (i.subset != j.subset) return i.subset < j.subset;
    if (i.port != j.port) return i.port < j.port;
    return i.direction < j.direction;
  });
  return clusters;
}

Result<std::string> clusterSummary(const ConfigDumpView& dump, const ClusterFilter& filter, bool namePrefix) {
  auto clusters = sortedClusters(dump);
  if (!clusters) return Failure(clusters.error());
  TabWriter w(0, 8, 5);
  w.write(namePrefix ? "NAME\tSERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE\n"
                     : "SERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE\n");
  for (const Cluster& c : *clusters) {
    if (!filter.verify(c)) continue;
    std::string type = Cluster::DiscoveryType_Name(c.type());
    std::string rule = describeManagement(c.has_metadata() ? &c.metadata() : nullptr);
    std::string prefixed = "cluster/" + c.name();
    if (hasSubsetKeyForm(c.name())) {
      SubsetKey key = parseSubsetKey(c.name());
      std::string subset = key.subset.empty() ? "-" : key.subset;
      std::string row =
          fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", key.hostname, key.port, subset, key.direction, type, rule);
      w.write(namePrefix ? prefixed + "\t" + row : row);
    } else if (namePrefix) {
      // istioctl renames the cluster before printing, so the FQDN column repeats the prefix.
      w.write(fmt::format("{}\t{}\t-\t-\t-\t{}\t{}\n", prefixed, prefixed, type, rule));
    } else {
      w.write(fmt::format("{}\t-\t-\t-\t{}\t{}\n", c.name(), type, rule));
    }
  }
  return w.flush();
}

Result<std::string> clusterDump(const ConfigDumpView& dump, const ClusterFilter& filter, OutputFormat format) {
  auto clusters = sortedClusters(dump);
  if (!clusters) return Failure(clusters.error());
  std::vector<const google::protobuf::Message*> selected;
  for (const Cluster& c : *clusters)
    if (filter.verify(c)) selected.push_back(&c);
  return printMessageList(selected, format);
}

}  // namespace mesh::cli::pc
