// The monitoring endpoints of meshd's port 15014, as istiod serves them: /ready (readiness
// probe), /metrics (Prometheus) and /version. meshd calls addMonitoringRoutes() once while
// building its RouteTable; the handlers run on the server's I/O thread.
#pragma once

#include <functional>
#include <string>

#include "controlplane/monitoring/route_table.h"
#include "core/metrics/registry.h"
#include "core/result.h"

namespace mesh::monitoring {

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready; the 503 body
};

// Called on every /ready request (Kubernetes probes every few seconds): must be cheap and
// thread-safe.
using ReadinessCheck = std::function<Readiness()>;

// `registry` must outlive the server the routes are given to.
Result<void> addMonitoringRoutes(RouteTable& routes, const metrics::Registry& registry,
                                 ReadinessCheck ready);

}  // namespace mesh::monitoring
