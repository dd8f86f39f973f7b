// Where Istio's metric labels come from, derived once (at config compile time or start-up) so
// the request path only copies them: the destination service of an upstream cluster (its
// istio.services metadata, else the name outbound|PORT|SUBSET|HOST), the destination workload
// of an endpoint (its istio.workload metadata), and the proxy's own workload from its node
// metadata. Pure functions, any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "proxy/telemetry/request_record.h"

namespace mesh::proxy::telemetry {

struct DestinationService {
  std::string host;        // reviews.bookinfo.svc.cluster.local
  std::string name;        // reviews
  std::string namespace_;  // bookinfo
};

// outbound|9080|v1|reviews.bookinfo.svc.cluster.local → the host, and name and namespace when
// the host is a Kubernetes service name (NAME.NAMESPACE.svc.DOMAIN); other hosts (ServiceEntry
// hosts, inbound|PORT||, BlackHoleCluster) keep the host as name and no namespace.
DestinationService serviceFromClusterName(std::string_view clusterName);

// Istio's endpoint metadata istio.workload, "NAME;NAMESPACE[;CANONICAL_SERVICE;CANONICAL_REVISION;CLUSTER]":
// the workload behind the endpoint (app and version are its canonical service and revision).
// Missing parts stay empty (reported as "unknown").
PeerInfo peerFromWorkloadMetadata(std::string_view workload);

// The proxy's own workload, as pilot-agent describes it in node metadata.
struct LocalWorkload {
  std::string name;            // WORKLOAD_NAME (else the pod name)
  std::string namespace_;      // NAMESPACE
  std::string serviceAccount;  // SERVICE_ACCOUNT
  std::string clusterId;       // CLUSTER_ID
  std::string trustDomain = "cluster.local";
  std::map<std::string, std::string, std::less<>> labels;  // LABELS: app, version, canonical names
};
PeerInfo localPeer(const LocalWorkload& w);

}  // namespace mesh::proxy::telemetry
