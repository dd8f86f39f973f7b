#include "cli/proxy_config/eds_writer.h"

#include <fmt/format.h>

#include <strings.h>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/istio_names.h"
#include "cli/proxy_config/tabwriter.h"

namespace mesh::cli::pc {

using envoy::config::core::v3::Address;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::endpoint::v3::LbEndpoint;

namespace {

bool equalFold(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string describeAddress(const Address& a) {
  if (a.has_socket_address())
    return fmt::format("{}:{}", a.socket_address().address(), a.socket_address().port_value());
  if (a.has_pipe()) return a.pipe().path();
  if (a.has_envoy_internal_address() && a.envoy_internal_address().address_name_specifier_case() ==
                                            envoy::config::core::v3::EnvoyInternalAddress::kServerListenerName)
    return fmt::format("envoy://{}/{}", a.envoy_internal_address().server_listener_name(),
                       a.envoy_internal_address().endpoint_id());
  return "unknown";
}

std::vector<std::string> endpointAddresses(const LbEndpoint& ep) {
  std::vector<std::string> out{describeAddress(ep.endpoint().address())};
  for (const auto& a : ep.endpoint().additional_addresses()) out.push_back(describeAddress(a.address()));
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? "," : "") + parts[i];
  return out;
}

}  // namespace

bool EndpointFilter::verify(const LbEndpoint& ep, const std::string& clusterName) const {
  if (address.empty() && port == 0 && cluster.empty() && status.empty()) return true;
  if (!address.empty()) {
    bool found = false;
    for (const auto& a : endpointAddresses(ep)) found = found || equalFold(a, address);
    if (!found) return false;
  }
  if (port != 0 && ep.endpoint().address().socket_address().port_value() != port) return false;
  if (!cluster.empty() && !equalFold(clusterName, cluster)) return false;
  if (!status.empty() && !equalFold(envoy::config::core::v3::HealthStatus_Name(ep.health_status()), status))
    return false;
  return true;
}

Result<std::vector<ClusterLoadAssignment>> filteredAssignments(const ConfigDumpView& dump,
                                                               const EndpointFilter& filter) {
  auto section = dump.endpoints();
  if (!section) return Failure(section.error());
  std::vector<ClusterLoadAssignment> out;
  auto take = [&](const google::protobuf::Any& any) {
    ClusterLoadAssignment cla;
    if (!unpackAny(any, cla)) return;
    size_t kept = 0;
    for (auto& llb : *cla.mutable_endpoints()) {
      google::protobuf::RepeatedPtrField<LbEndpoint> filtered;
      for (auto& ep : *llb.mutable_lb_endpoints())
        if (filter.verify(ep, cla.cluster_name())) *filtered.Add() = std::move(ep);
      llb.mutable_lb_endpoints()->Swap(&filtered);
      kept += static_cast<size_t>(llb.lb_endpoints_size());
    }
    if (kept > 0) out.push_back(std::move(cla));
  };
  for (const auto& e : section->dynamic_endpoint_configs()) take(e.endpoint_config());
  for (const auto& e : section->static_endpoint_configs()) take(e.endpoint_config());
  goSortSlice(out, [](const ClusterLoadAssignment& a, const ClusterLoadAssignment& b) {
    SubsetKey i = safelyParseSubsetKey(a.cluster_name()), j = safelyParseSubsetKey(b.cluster_name());
    if (i.hostname != j.hostname) return i.hostname < j.hostname;
    if (i.subset != j.subset) return i.subset < j.subset;
    if (i.port != j.port) return i.port < j.port;
    return i.direction < j.direction;
  });
  return out;
}

Result<std::string> edsSummary(const ConfigDumpView& dump, const EndpointFilter& filter, bool namePrefix) {
  TabWriter w(0, 8, 5);
  w.write("NAME\tSTATUS\tLOCALITY\tCLUSTER\n");
  auto assignments = filteredAssignments(dump, filter);
  if (!assignments) return Failure(assignments.error());
  for (const auto& cla : *assignments) {
    for (const auto& llb : cla.endpoints()) {
      for (const auto& ep : llb.lb_endpoints()) {
        std::string addr = join(endpointAddresses(ep));
        if (namePrefix) addr = "endpoint/" + addr;
        w.write(fmt::format("{}\t{}\t{}\t{}\n", addr, envoy::config::core::v3::HealthStatus_Name(ep.health_status()),
                            localityToString(llb.has_locality() ? &llb.locality() : nullptr), cla.cluster_name()));
      }
    }
  }
  return w.flush();
}

Result<std::string> edsDump(const ConfigDumpView& dump, const EndpointFilter& filter, OutputFormat format) {
  auto assignments = filteredAssignments(dump, filter);
  if (!assignments) return Failure(assignments.error());
  std::vector<const google::protobuf::Message*> selected;
  for (const auto& cla : *assignments) selected.push_back(&cla);
  return printMessageList(selected, format);
}

}  // namespace mesh::cli::pc
