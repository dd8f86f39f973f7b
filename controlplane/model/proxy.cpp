#include "controlplane/model/proxy.h"

#include <fmt/format.h>

namespace mesh::model {
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

std::string_view meta(const NodeInfo& node, std::string_view key) {
  auto it = node.metadata.find(key);
  return it == node.metadata.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

Result<Proxy> Proxy::fromNode(const NodeInfo& node) {
  // Istio's ParseServiceNodeWithMetadata: exactly four '~'-separated parts.
  auto parts = split(node.id, '~');
  if (parts.size() != 4)
    return fail(ErrorCode::InvalidInput,
                      fmt::format("node id {:?} is not TYPE~IP~NAME.NAMESPACE~DOMAIN", node.id));
  Proxy p;
  if (parts[0] == "sidecar") p.type = ProxyType::Sidecar;
  else if (parts[0] == "router") p.type = ProxyType::Router;
  else
    return fail(ErrorCode::InvalidInput,
                      fmt::format("node id {:?}: type {:?} is neither sidecar nor router", node.id, parts[0]));
  p.id = node.id;
  for (std::string_view ip : split(meta(node, "INSTANCE_IPS").empty() ? parts[1] : meta(node, "INSTANCE_IPS"), ','))
    if (!ip.empty()) p.ips.emplace_back(ip);
  std::string_view name = parts[2];
  auto dot = name.find('.');
  p.workloadName = std::string(name.substr(0, dot));
  p.namespace_ = std::string(meta(node, "NAMESPACE"));
  if (p.namespace_.empty() && dot != std::string_view::npos) p.namespace_ = std::string(name.substr(dot + 1));
  if (p.namespace_.empty()) p.namespace_ = "default";
  p.dnsDomain = std::string(parts[3]);
  p.labels = node.labels;
  p.clusterId = std::string(meta(node, "CLUSTER_ID"));
  if (p.clusterId.empty()) p.clusterId = node.cluster.empty() ? "Kubernetes" : node.cluster;
  p.istioVersion = std::string(meta(node, "ISTIO_VERSION"));
  p.serviceAccount = std::string(meta(node, "SERVICE_ACCOUNT"));
  p.locality = node.locality;
  p.userAgent = node.userAgent;
  p.userAgentVersion = node.userAgentVersion;
  if (meta(node, "GENERATOR") == "grpc") p.generator = GeneratorKind::Grpc;
  return p;
}

}  // namespace mesh::model
