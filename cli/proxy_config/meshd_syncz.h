// meshd's ListProxies answer in the shape of istiod's istio.io/debug/syncz answer (one
// DiscoveryResponse of envoy.service.status.v3.ClientConfig per control plane instance), so
// `proxy-status` prints a live meshd with the same writer, and -o json|yaml, as saved syncz
// answers. Per type: NOT_SENT before the first response, ERROR while the last one is NACKed,
// SYNCED when the proxy ACKed the last response, STALE otherwise. Pure function.
#pragma once

#include "cli/meshd_client.h"
#include "cli/proxy_config/dump_source.h"

namespace mesh::cli::pc {

SynczResponses synczFromMeshd(const debugv1::ListProxiesResponse& proxies);

}  // namespace mesh::cli::pc
