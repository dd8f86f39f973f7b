#include "controlplane/monitoring/pilot_metrics.h"

#include <vector>

namespace mesh::monitoring {
namespace {

// Istio's buckets (pilot/pkg/xds/monitoring.go), so histogram_quantile() over meshd and istiod
// data gives comparable answers.
const std::vector<double> kConvergenceBuckets{.1, .5, 1, 3, 5, 10, 20, 30};
const std::vector<double> kPushTimeBuckets{.01, .1, 1, 3, 5, 10, 20, 30};
const std::vector<double> kConfigSizeBuckets{1, 10000, 1000000, 4000000, 10000000, 40000000};

}  // namespace

PilotMetrics::PilotMetrics(metrics::Registry& r)
    : xdsPushes(r.counter("pilot_xds_pushes",
                          "Number of xDS pushes sent to proxies, by resource type.", {"type"})),
      xdsClients(
          r.gauge("pilot_xds", "Number of proxies connected to this control plane.", {"version"})),
      proxyConvergenceTime(
          r.histogram("pilot_proxy_convergence_time",
                      "Seconds from a config change until the resulting push reached a proxy.",
                      kConvergenceBuckets)
              .with()),
      totalXdsRejects(r.counter("pilot_total_xds_rejects",
                                "Number of xDS responses a proxy rejected (NACKed), by type.",
                                {"type"})),
      pushTriggers(r.counter("pilot_push_triggers",
                             "Number of pushes started, by the kind of change that caused them.",
                             {"type"})),
      proxyQueueTime(r.histogram("pilot_proxy_queue_time",
                                 "Seconds a proxy waited in the push queue before its push began.",
                                 kConvergenceBuckets)
                         .with()),
      xdsPushTime(r.histogram("pilot_xds_push_time",
                              "Seconds spent building and sending one push, by resource type.",
                              kPushTimeBuckets, {"type"})),
      totalXdsInternalErrors(
          r.counter("pilot_total_xds_internal_errors",
                    "Number of errors inside the control plane while serving xDS requests.")
              .with()),
      xdsConfigSizeBytes(r.histogram("pilot_xds_config_size_bytes",
                                     "Size in bytes of the resources sent in one push, by type.",
                                     kConfigSizeBuckets, {"type"})) {}

}  // namespace mesh::monitoring
