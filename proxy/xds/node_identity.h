// The xDS node meshproxy presents to meshd, shaped as Istio's pilot-agent shapes a sidecar's or
// gateway's: id TYPE~IP~NAME.NAMESPACE~DOMAIN, cluster, and the metadata istiod reads
// (NAMESPACE, LABELS, SERVICE_ACCOUNT, CLUSTER_ID, ISTIO_VERSION, INSTANCE_IPS, ...; meshd reads
// them in controlplane/model/proxy.cpp). Built once on main's thread at start-up.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"
#include "envoy/config/core/v3/base.pb.h"

namespace mesh::proxy {

struct NodeOptions {
  std::string id;              // required: "sidecar~127.0.0.1~orders-1.shop~shop.svc.cluster.local"
  std::string type;            // "sidecar" or "router"; must match the id's first part
  std::string namespace_;      // NAMESPACE; default: the id's NAME.NAMESPACE part
  std::string cluster;         // node.cluster; default: app label (else workload name) "." namespace
  std::string clusterId;       // CLUSTER_ID; default "Kubernetes", as Istio's
  std::string meshId;          // MESH_ID; default "cluster.local"
  std::map<std::string, std::string, std::less<>> labels;
  std::string serviceAccount;  // SERVICE_ACCOUNT
  std::string statusPort;      // ENVOY_STATUS_PORT, when the status listener has one
};

// "k=v,k2=v2" → labels. An entry without '=' or with an empty key is a Usage error.
Result<std::map<std::string, std::string, std::less<>>> parseLabels(std::string_view text);

// Checks the id (four '~' parts, type sidecar|router, NAME.NAMESPACE) and builds the node.
Result<envoy::config::core::v3::Node> buildNode(const NodeOptions& options);

}  // namespace mesh::proxy
