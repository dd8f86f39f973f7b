#include "controlplane/monitoring/pilot_metrics.h"

#include <doctest/doctest.h>

#include "core/metrics/exposition.h"

namespace mesh::monitoring {

TEST_CASE("PilotMetrics registers istiod's metric names, labels and buckets") {
  metrics::Registry registry;
  PilotMetrics pilot(registry);
  pilot.xdsPushes.with({"cds"}).inc();
  pilot.xdsClients.with({"1.20.0"}).set(3);
  pilot.proxyConvergenceTime.observe(0.2);
  pilot.totalXdsRejects.with({"lds"}).inc();
  pilot.pushTriggers.with({"endpoint"}).inc();
  pilot.proxyQueueTime.observe(0.05);
  pilot.xdsPushTime.with({"eds"}).observe(0.02);
  pilot.totalXdsInternalErrors.inc();
  pilot.xdsConfigSizeBytes.with({"rds"}).observe(2048);

  const std::string text = metrics::expose(registry);
  for (const char* line : {
           "# TYPE pilot_xds_pushes counter\n",
           "pilot_xds_pushes{type=\"cds\"} 1\n",
           "# TYPE pilot_xds gauge\n",
           "pilot_xds{version=\"1.20.0\"} 3\n",
           "# TYPE pilot_proxy_convergence_time histogram\n",
           "pilot_proxy_convergence_time_bucket{le=\"0.1\"} 0\n",
           "pilot_proxy_convergence_time_bucket{le=\"0.5\"} 1\n",
           "pilot_proxy_convergence_time_bucket{le=\"30\"} 1\n",
           "pilot_total_xds_rejects{type=\"lds\"} 1\n",
           "pilot_push_triggers{type=\"endpoint\"} 1\n",
           "pilot_proxy_queue_time_bucket{le=\"0.1\"} 1\n",
           "pilot_xds_push_time_bucket{type=\"eds\",le=\"0.01\"} 0\n",
           "pilot_xds_push_time_bucket{type=\"eds\",le=\"0.1\"} 1\n",
           "# TYPE pilot_total_xds_internal_errors counter\n",
           "pilot_total_xds_internal_errors 1\n",
           "pilot_xds_config_size_bytes_bucket{type=\"rds\",le=\"10000\"} 1\n",
           "pilot_xds_config_size_bytes_bucket{type=\"rds\",le=\"4e+07\"} 1\n",
       }) {
    CAPTURE(line);
    CHECK(text.find(line) != std::string::npos);
  }
}

TEST_CASE("a second PilotMetrics over the same registry shares the families") {
  metrics::Registry registry;
  PilotMetrics a(registry);
  PilotMetrics b(registry);
  a.xdsPushes.with({"eds"}).inc();
  CHECK(&a.xdsPushes == &b.xdsPushes);
  CHECK(b.xdsPushes.with({"eds"}).value() == 1);
}

}  // namespace mesh::monitoring
