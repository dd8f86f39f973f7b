// What meshd may read from the Kubernetes API: one table, from which meshd's ClusterRole (and
// the reader account remote secrets use) is rendered. Least privilege: get, list and watch on
// exactly the kinds meshd builds its model from, nothing written, no wildcards. Kinds meshd
// starts to read (Secrets for SDS, with the CA) are added here. The one namespaced grant, on
// Secrets in meshd's own namespace for remote clusters, is a Role of its own. Pure; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "core/kinds.h"

namespace mesh::install {

// The kinds meshd reads, in kinds-table order.
std::vector<const core::KindInfo*> meshdReadKinds();

// ClusterRole rules: one per API group (core group first, then by name), resources sorted,
// verbs get, list, watch.
nlohmann::ordered_json meshdReadRules();

// Role rules in meshd's namespace: get, list and watch Secrets, for the remote secrets
// (istio/multiCluster=true) that name the other clusters of a multi-primary mesh, and
// ConfigMaps, for the `istio` MeshConfig when it is not mounted (values.pilot.configMap=false).
nlohmann::ordered_json meshdNamespaceRules();

}  // namespace mesh::install
