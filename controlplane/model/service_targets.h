// Which services a proxy's own workload serves (Istio's ServiceTargets): the endpoints that
// are this workload. Matched by workload name and namespace when the node names one (local
// mode runs every workload on 127.0.0.1), else by instance IP. Inbound listeners, inbound
// clusters and workload policies start from here. Stateless; any thread.
#pragma once

#include <vector>

#include "controlplane/model/config_snapshot.h"

namespace mesh::model {

struct ServiceTarget {
  const Service* service = nullptr;
  const ServicePort* port = nullptr;
  const Endpoint* endpoint = nullptr;  // the workload's port for this service port
};

// Sorted by workload port, then hostname.
std::vector<ServiceTarget> serviceTargets(const ConfigSnapshot& snapshot, const Proxy& proxy);

}  // namespace mesh::model
