// describe's security half: a workload's effective PeerAuthentication (Istio's
// ComposePeerAuthentication: mesh, namespace and workload levels, oldest first within a level,
// UNSET inherits, port-level modes on the workload policy), the AuthorizationPolicies that
// select it and which ALLOW rules a DENY rule shadows (DENY is evaluated first), and plaintext
// callers that STRICT mTLS would turn away. Pure; main thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/describe/describe.h"

namespace mesh::cli::describe {

PeerAuthenticationView effectivePeerAuthentication(const analysis::Snapshot& snapshot, const Workload& w);

// Root-namespace and own-namespace policies whose selector selects the workload (those bound
// with targetRef apply to gateways and waypoints, not sidecars), in namespace/name order.
std::vector<AuthorizationPolicyView> authorizationPoliciesFor(const analysis::Snapshot& snapshot, const Workload& w);

// Summary lines and shadowing warnings for the policies of one workload.
void authorizationFindings(const std::vector<AuthorizationPolicyView>& policies, std::vector<std::string>& summary, std::vector<std::string>& warnings);

// Workloads in the config without a sidecar (a Pod or Deployment outside the mesh, not in a
// Kubernetes system namespace nor the control plane): "name.namespace (Kind)".
std::vector<std::string> plaintextCallers(const analysis::Snapshot& snapshot, const Workload& server);

}  // namespace mesh::cli::describe
