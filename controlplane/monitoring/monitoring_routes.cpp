#include "controlplane/monitoring/monitoring_routes.h"

#include <utility>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/metrics/exposition.h"
#include "core/version.h"

namespace mesh::monitoring {
namespace {

// The shape of `meshctl version -o json`'s clientVersion (Istio's BuildInfo), so one reader
// handles both.
std::string versionJson() {
  const nlohmann::json v = {
      {"version", std::string(kVersion)},
      {"revision", std::string(gitRevision())},
      {"status", "Clean"},
      {"tag", std::string(kVersion)},
      {"compiler", fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)}};
  return v.dump() + "\n";
}

}  // namespace

Result<void> addMonitoringRoutes(RouteTable& routes, const metrics::Registry& registry,
                                 ReadinessCheck ready) {
  auto readyRoute = routes.add("/ready", [ready = std::move(ready)](const HttpRequest&) {
    const Readiness r = ready ? ready() : Readiness{false, "no readiness check configured"};
    if (r.ready) return HttpResponse::text(200, "ready\n");
    return HttpResponse::text(503, r.reason.empty() ? "not ready\n" : r.reason + "\n");
  });
  if (!readyRoute) return readyRoute;

  auto metricsRoute = routes.add("/metrics", [&registry](const HttpRequest&) {
    return HttpResponse{
        200, std::string(metrics::kExpositionContentType), metrics::expose(registry), {}};
  });
  if (!metricsRoute) return metricsRoute;

  return routes.add("/version", [body = versionJson()](const HttpRequest&) {
    return HttpResponse{200, "application/json", body, {}};
  });
}

}  // namespace mesh::monitoring
