// describe's view of workloads and the services in front of them: a Pod or WorkloadEntry as a
// Workload, which Services and ServiceEntries select it (Kubernetes selectors, ServiceEntry
// workloadSelector; same namespace only, as Istio), and each service port's target port on it.
// Pure functions of the snapshot; main thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/describe/describe.h"

namespace mesh::cli::describe {

Workload workloadOf(const analysis::Snapshot& snapshot, const core::Resource& r);

// The Kubernetes Services and ServiceEntry hosts that select the workload, ports mapped onto it.
std::vector<ServiceView> servicesSelecting(const analysis::Snapshot& snapshot, const Workload& w);

// A Service named `name` in `ns`, else the ServiceEntry host `host`(preferring `ns`), as a
// ServiceView with its ports mapped onto `workloads` (filled with what it selects).
std::optional<ServiceView> findService(const analysis::Snapshot& snapshot, std::string_view name,
                                       std::string_view ns, std::string_view rawName,
                                       std::vector<Workload>& workloads);

// Istio's port protocol for a Kubernetes Service port (appProtocol, then the name's prefix).
std::string kubePortProtocol(std::string_view name, std::string_view appProtocol);
// A ServiceEntry port's `protocol` in Istio's spelling.
std::string serviceEntryPortProtocol(std::string_view protocol);

}  // namespace mesh::cli::describe
