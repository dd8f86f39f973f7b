// PilotMetrics: istiod's control-plane metrics under their Istio names and labels, so Istio's
// dashboards and alerts work on meshd unchanged. meshd builds one at start-up over its Registry;
// the xDS server and push queue keep the references and update them from any thread.
#pragma once

#include "core/metrics/registry.h"

namespace mesh::monitoring {

struct PilotMetrics {
  explicit PilotMetrics(metrics::Registry& registry);

  // pilot_xds_pushes{type}: pushes sent, type cds/eds/lds/rds (Istio adds *_senderr on failure).
  metrics::Family<metrics::Counter>& xdsPushes;
  // pilot_xds{version}: proxies connected now, by their Istio version.
  metrics::Family<metrics::Gauge>& xdsClients;
  // pilot_proxy_convergence_time: seconds from a config change to its push to a proxy.
  metrics::Histogram& proxyConvergenceTime;
  // pilot_total_xds_rejects{type}: pushes a proxy NACKed.
  metrics::Family<metrics::Counter>& totalXdsRejects;
  // pilot_push_triggers{type}: why pushes started (config, endpoint, service, proxy...).
  metrics::Family<metrics::Counter>& pushTriggers;
  // pilot_proxy_queue_time: seconds a proxy waited in the push queue.
  metrics::Histogram& proxyQueueTime;
  // pilot_xds_push_time{type}: seconds to build and send one push of a type.
  metrics::Family<metrics::Histogram>& xdsPushTime;
  // pilot_total_xds_internal_errors: failures inside meshd while answering xDS.
  metrics::Counter& totalXdsInternalErrors;
  // pilot_xds_config_size_bytes{type}: size of the resources in one push.
  metrics::Family<metrics::Histogram>& xdsConfigSizeBytes;
};

}  // namespace mesh::monitoring
