#include "proxy/xds/node_identity.h"

#include <vector>

#include <fmt/format.h>

#include "core/version.h"

namespace mesh::proxy {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace

Result<std::map<std::string, std::string, std::less<>>> parseLabels(std::string_view text) {
  std::map<std::string, std::string, std::less<>> out;
  if (text.empty()) return out;
  for (std::string_view entry : split(text, ',')) {
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return fail(ErrorCode::Usage, fmt::format("label {:?} is not KEY=VALUE", entry),
                  "labels are given as --labels app=orders,version=v1");
    out.insert_or_assign(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

Result<envoy::config::core::v3::Node> buildNode(const NodeOptions& o) {
  // Istio's ParseServiceNodeWithMetadata: TYPE~IP~NAME.NAMESPACE~DOMAIN.
  auto parts = split(o.id, '~');
  if (parts.size() != 4 || parts[2].empty())
    return fail(ErrorCode::Usage, fmt::format("node id {:?} is not TYPE~IP~NAME.NAMESPACE~DOMAIN", o.id),
                "e.g. --id sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local");
  if (parts[0] != "sidecar" && parts[0] != "router")
    return fail(ErrorCode::Usage, fmt::format("node id {:?}: type {:?} is neither sidecar nor router", o.id, parts[0]));
  if (!o.type.empty() && o.type != parts[0])
    return fail(ErrorCode::Usage, fmt::format("--type {} does not match the node id's type {:?}", o.type, parts[0]));
  std::string_view name = parts[2];
  auto dot = name.find('.');
  std::string workload(name.substr(0, dot));
  std::string ns = o.namespace_;
  if (ns.empty() && dot != std::string_view::npos) ns = std::string(name.substr(dot + 1));
  if (ns.empty()) ns = "default";

  envoy::config::core::v3::Node node;
  node.set_id(o.id);
  std::string cluster = o.cluster;
  if (cluster.empty()) {
    // Istio's service cluster: the app label (else the workload name) and the namespace.
    auto app = o.labels.find("app");
    cluster = fmt::format("{}.{}", app != o.labels.end() ? app->second : workload, ns);
  }
  node.set_cluster(cluster);
  node.set_user_agent_name("meshproxy");
  node.set_user_agent_version(std::string(kVersion));

  auto& fields = *node.mutable_metadata()->mutable_fields();
  auto put = [&fields](const char* key, std::string_view value) {
    if (!value.empty()) fields[key].set_string_value(std::string(value));
  };
  put("NAME", workload);
  put("NAMESPACE", ns);
  put("INSTANCE_IPS", parts[1]);
  put("CLUSTER_ID", o.clusterId.empty() ? std::string_view("Kubernetes") : std::string_view(o.clusterId));
  put("MESH_ID", o.meshId.empty() ? std::string_view("cluster.local") : std::string_view(o.meshId));
  put("SERVICE_ACCOUNT", o.serviceAccount);
  put("ISTIO_VERSION", kVersion);
  // Local mode captures nothing: applications call the proxy's listeners directly, as an Istio
  // VM with interception off does; Istio's value for that is NONE.
  put("INTERCEPTION_MODE", "NONE");
  put("ENVOY_STATUS_PORT", o.statusPort);
  auto workloadLabel = o.labels.find("app");
  put("WORKLOAD_NAME", workloadLabel != o.labels.end() ? workloadLabel->second : workload);
  if (!o.labels.empty()) {
    auto& labels = *fields["LABELS"].mutable_struct_value()->mutable_fields();
    for (const auto& [k, v] : o.labels) labels[k].set_string_value(v);
  }
  return node;
}

}  // namespace mesh::proxy
