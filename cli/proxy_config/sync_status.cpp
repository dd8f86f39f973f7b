#include "cli/proxy_config/sync_status.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/proxy_config/go_sort.h"
#include "cli/proxy_config/tabwriter.h"
#include "cli/proxy_config/type_registry.h"
#include "envoy/service/status/v3/csds.pb.h"

namespace mesh::cli::pc {

namespace status = envoy::service::status::v3;
namespace discovery = envoy::service::discovery::v3;

namespace {

constexpr std::string_view kClientConfigType = "envoy.service.status.v3.ClientConfig";
constexpr const char* kClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr const char* kListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr const char* kRouteType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
constexpr const char* kEndpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
constexpr std::string_view kIgnored = "IGNORED";

struct ProxyRow {
  std::string proxyId, clusterId, istiodId, version;
  std::vector<std::pair<std::string, status::ConfigStatus>> types;  // in istiod's order
};

std::string metadataString(const google::protobuf::Struct& md, const char* key) {
  auto it = md.fields().find(key);
  return it == md.fields().end() ? "" : it->second.string_value();
}

// multixds.CpInfo: the istiod ID from the control plane identifier JSON.
std::string istiodId(const discovery::DiscoveryResponse& dr) {
  if (!dr.has_control_plane()) return "MISSING";
  nlohmann::json id = nlohmann::json::parse(dr.control_plane().identifier(), nullptr, false);
  if (id.is_discarded() || !id.is_object()) return "UNKNOWN";
  auto it = id.find("ID");
  return it != id.end() && it->is_string() ? it->get<std::string>() : "";
}

// Generic configs, or the deprecated per-xDS configs of older istiods.
std::vector<std::pair<std::string, status::ConfigStatus>> xdsConfigs(const status::ClientConfig& cc) {
  std::vector<std::pair<std::string, status::ConfigStatus>> out;
  if (!cc.generic_xds_configs().empty()) {
    for (const auto& g : cc.generic_xds_configs()) out.emplace_back(g.type_url(), g.config_status());
    return out;
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // older istiods only fill xds_config
  const auto& legacy = cc.xds_config();
#pragma GCC diagnostic pop
  for (const auto& x : legacy) {
    const char* url = nullptr;
    switch (x.per_xds_config_case()) {
      case status::PerXdsConfig::kListenerConfig:
        url = kListenerType;
        break;
      case status::PerXdsConfig::kClusterConfig:
        url = kClusterType;
        break;
      case status::PerXdsConfig::kRouteConfig:
        url = kRouteType;
        break;
      case status::PerXdsConfig::kEndpointConfig:
        url = kEndpointType;
        break;
      default:
        break;
    }
    if (url != nullptr) out.emplace_back(url, x.status());
  }
  return out;
}

std::string formatStatus(status::ConfigStatus s) {
  switch (s) {
    case status::UNKNOWN:
      return std::string(kIgnored);
    case status::NOT_SENT:
      return "NOT SENT";
    case status::ERROR:  // the proxy rejected the last response
      return "NACK";
    default:
      return status::ConfigStatus_Name(s);
  }
}

bool isClientConfig(const google::protobuf::Any& a) { return typeNameOf(a.type_url()) == kClientConfigType; }

bool inNamespace(const status::ClientConfig& cc, const std::string& ns) {
  return ns.empty() || metadataString(cc.node().metadata(), "NAMESPACE") == ns;
}

std::string table(const SynczResponses& responses, const SyncStatusOptions& o) {
  std::vector<ProxyRow> rows;
  for (const auto& [name, dr] : responses) {
    for (const auto& resource : dr.resources()) {
      if (!isClientConfig(resource)) continue;
      status::ClientConfig cc;
      if (!cc.ParseFromString(resource.value())) continue;
      if (!inNamespace(cc, o.ns)) continue;
      if (!o.proxy.empty() && cc.node().id().find(o.proxy) == std::string::npos) continue;
      const auto& md = cc.node().metadata();
      rows.push_back({cc.node().id(), metadataString(md, "CLUSTER_ID"), istiodId(dr),
                      metadataString(md, "ISTIO_VERSION"), xdsConfigs(cc)});
    }
  }
  goSortSlice(rows, [](const ProxyRow& a, const ProxyRow& b) { return a.proxyId < b.proxyId; });

  TabWriter w(0, 8, 5);
  if (o.verbosity > 0) {
    std::set<std::string> urls;
    for (const auto& r : rows)
      for (const auto& t : r.types) urls.insert(t.first);
    std::string header = "NAME\tCLUSTER\t";
    for (const auto& u : urls) header += shortXdsType(u) + "\t";
    w.write(header + "ISTIOD\tVERSION\n");
    for (const auto& r : rows) {
      std::map<std::string, std::string> byUrl;
      for (const auto& [url, s] : r.types) byUrl.emplace(url, formatStatus(s));
      std::string line = r.proxyId + "\t" + r.clusterId + "\t";
      for (const auto& u : urls) {
        auto it = byUrl.find(u);
        line += (it == byUrl.end() ? std::string(kIgnored) : it->second) + "\t";
      }
      w.write(line + r.istiodId + "\t" + r.version + "\n");
    }
    return w.flush();
  }
  w.write("NAME\tCLUSTER\tISTIOD\tVERSION\tSUBSCRIBED TYPES\n");
  for (const auto& r : rows) {
    std::vector<std::string> subscribed;
    for (const auto& [url, s] : r.types)
      if (s != status::UNKNOWN) subscribed.push_back(shortXdsType(url));
    std::string list;
    for (size_t i = 0; i < subscribed.size(); ++i) list += (i > 0 ? "," : "") + subscribed[i];
    w.write(fmt::format("{}\t{}\t{}\t{}\t{} ({})\n", r.proxyId, r.clusterId, r.istiodId, r.version, subscribed.size(),
                        list));
  }
  return w.flush();
}

}  // namespace

std::string shortXdsType(const std::string& typeUrl) {
  static const std::map<std::string, std::string, std::less<>> kShort = {
      {kClusterType, "CDS"},
      {kListenerType, "LDS"},
      {kRouteType, "RDS"},
      {kEndpointType, "EDS"},
      {"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "SDS"},
      {"type.googleapis.com/istio.networking.nds.v1.NameTable", "NDS"},
      {"type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig", "PCDS"},
      {"type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", "ECDS"},
      {"type.googleapis.com/istio.workload.Address", "WDS"},
      {"type.googleapis.com/istio.workload.Workload", "WDS"},
      {"type.googleapis.com/istio.security.Authorization", "WADS"},
  };
  auto it = kShort.find(typeUrl);
  return it == kShort.end() ? typeUrl : it->second;
}

std::string syncStatus(const SynczResponses& responses, const SyncStatusOptions& o) {
  if (o.format == OutputFormat::Short) return table(responses, o);
  std::string out;
  for (const auto& [name, dr] : responses) {
    if (o.ns.empty()) {
      out += printLegacyJson(dr, o.format);
      continue;
    }
    // Namespace-filtered answers are re-marshalled without the ClientConfigs of other
    // namespaces; istioctl writes that YAML as is, without Println's extra newline.
    discovery::DiscoveryResponse filtered = dr;
    filtered.clear_resources();
    for (const auto& resource : dr.resources()) {
      status::ClientConfig cc;
      if (isClientConfig(resource) && cc.ParseFromString(resource.value()) && !inNamespace(cc, o.ns)) continue;
      *filtered.add_resources() = resource;
    }
    std::string text = printLegacyJson(filtered, o.format);
    if (o.format == OutputFormat::Yaml) text.pop_back();
    out += text;
  }
  return out;
}

}  // namespace mesh::cli::pc
