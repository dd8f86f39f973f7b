// IstioMetrics: Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds,
// istio_request_bytes, istio_response_bytes, istio_tcp_*) with Istio's label names, recorded
// from the data plane's RequestRecords into a metrics Registry that the proxy serves in
// Prometheus format on 15090 (/stats/prometheus). Existing Istio dashboards and alerts work
// unchanged. Any thread may record; each thread keeps a small cache of the children it feeds.
#pragma once

#include "core/metrics/registry.h"
#include "proxy/telemetry/request_record.h"

namespace mesh::proxy::telemetry {

class IstioMetrics {
 public:
  explicit IstioMetrics(metrics::Registry& registry);

  // One finished HTTP (or gRPC) request.
  void recordRequest(const RequestRecord& r);
  // A TCP connection opened (counts it) / closed (counts it and its bytes).
  void recordTcpOpened(const RequestRecord& r);
  void recordTcpClosed(const RequestRecord& r);

  // Istio's labels of istio_requests_total, in the order the families declare them.
  static const std::vector<std::string>& requestLabelNames();
  static const std::vector<std::string>& tcpLabelNames();

 private:
  struct ThreadCache;
  uint64_t id_ = 0;  // tells this instance's per-thread cache from another's
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& duration_;
  metrics::Family<metrics::Histogram>& requestBytes_;
  metrics::Family<metrics::Histogram>& responseBytes_;
  metrics::Family<metrics::Counter>& tcpSent_;
  metrics::Family<metrics::Counter>& tcpReceived_;
  metrics::Family<metrics::Counter>& tcpOpened_;
  metrics::Family<metrics::Counter>& tcpClosed_;
};

}  // namespace mesh::proxy::telemetry
