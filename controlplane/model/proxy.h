// A connected proxy's identity as Istio reads it from the xDS node: the node id
// ("sidecar~10.0.0.1~pod-1.payments~payments.svc.cluster.local", "router~..."), and node
// metadata (NAMESPACE, LABELS, GENERATOR, INSTANCE_IPS, CLUSTER_ID, ...). Built by the ADS
// server when a stream starts; immutable afterwards.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/service.h"
#include "core/result.h"

namespace mesh::model {

enum class ProxyType { Sidecar, Router };
// Which generator family serves the proxy: Envoy-shaped config, or gRPC's proxyless shapes.
enum class GeneratorKind { Envoy, Grpc };

// The node fields the ADS server passes in; metadata values flattened to strings (LABELS is a
// struct in the node, passed as `labels`).
struct NodeInfo {
  std::string id;
  std::string cluster;
  std::map<std::string, std::string, std::less<>> metadata;
  Labels labels;
  std::string locality;  // "region/zone/subzone" from the node's locality
  std::string userAgent; // "envoy", "gRPC C-core", "grpc-node-js", ...
  std::string userAgentVersion;
};

struct Proxy {
  ProxyType type = ProxyType::Sidecar;
  GeneratorKind generator = GeneratorKind::Envoy;
  std::string id;          // the full node id
  std::string workloadName;  // "pod-1" of "pod-1.payments"
  std::string namespace_;
  std::vector<std::string> ips;
  std::string dnsDomain;   // "payments.svc.cluster.local"
  Labels labels;
  std::string clusterId;
  std::string istioVersion;
  std::string serviceAccount;
  std::string locality;
  std::string userAgent;
  std::string userAgentVersion;
  // The xDS stream comes from this host (loopback or a Unix socket). meshd's ADS is plaintext,
  // so this is the only proof it has of where a proxy runs: gateway credentials (SDS) go only
  // to such proxies, as istiod serves them only to authenticated ones. Set by the ADS server.
  bool localPeer = false;

  // "pod-1.payments": the name proxy-status shows.
  std::string displayName() const { return workloadName + "." + namespace_; }
  // Istio's node id form is required; a bad id is a client error.
  static Result<Proxy> fromNode(const NodeInfo& node);
};

}  // namespace mesh::model
