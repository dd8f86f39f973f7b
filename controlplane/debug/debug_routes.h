// istiod's HTTP debug endpoints on the monitoring port, for scripts and curl (the debug gRPC
// API in debug_service.h serves the same and more): /debug/syncz (per-proxy sync state, Istio's SyncStatus JSON plus our
// config generations and NACK text) and /debug/config_errors (config left out of the current
// snapshot, with file and line). Handlers read the ADS server's state; any thread.
#pragma once

#include "controlplane/monitoring/route_table.h"
#include "controlplane/server/ads_server.h"

namespace mesh::debug {

Result<void> addDebugRoutes(monitoring::RouteTable& routes, const server::AdsServer& ads);

}  // namespace mesh::debug
