// IstioTelemetry: the RequestObserver meshproxy's main() gives the data plane. Each finished
// request and TCP connection goes to Istio's standard metrics (IstioMetrics) and, when an
// access log is configured (meshConfig accessLogFile), to one access-log line. Called on the
// data plane's worker threads; both parts are thread-safe.
#pragma once

#include <memory>

#include "core/metrics/registry.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/istio_metrics.h"
#include "proxy/telemetry/request_observer.h"

namespace mesh::proxy::telemetry {

class IstioTelemetry : public RequestObserver {
 public:
  // `registry` outlives this; `accessLog` may be null (logging off).
  IstioTelemetry(metrics::Registry& registry, std::unique_ptr<AccessLog> accessLog);

  void onRequest(const RequestRecord& r) override;
  void onTcpOpened(const RequestRecord& r) override;
  void onTcpClosed(const RequestRecord& r) override;

 private:
  IstioMetrics metrics_;
  std::unique_ptr<AccessLog> accessLog_;
};

}  // namespace mesh::proxy::telemetry
