#include "proxy/telemetry/istio_telemetry.h"

namespace mesh::proxy::telemetry {

IstioTelemetry::IstioTelemetry(metrics::Registry& registry, std::unique_ptr<AccessLog> accessLog)
    : metrics_(registry), accessLog_(std::move(accessLog)) {}

void IstioTelemetry::onRequest(const RequestRecord& r) {
  metrics_.recordRequest(r);
  if (accessLog_) accessLog_->log(r);
}

void IstioTelemetry::onTcpOpened(const RequestRecord& r) { metrics_.recordTcpOpened(r); }

// Envoy writes a TCP connection's access-log line when it closes.
void IstioTelemetry::onTcpClosed(const RequestRecord& r) {
  metrics_.recordTcpClosed(r);
  if (accessLog_) accessLog_->log(r);
}

}  // namespace mesh::proxy::telemetry
