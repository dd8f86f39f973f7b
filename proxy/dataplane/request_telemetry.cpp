#include "proxy/dataplane/request_telemetry.h"

namespace mesh::proxy::dataplane {

void fillConnectionRecord(telemetry::RequestRecord& r, const Engine& engine, const Downstream& ds,
                          std::string_view clusterName) {
  // Istio: the client side (sidecar outbound, and gateways) reports as "source", the server
  // side (sidecar inbound) as "destination"; each fills its own side from its own identity.
  r.reporter = ds.inbound ? telemetry::Reporter::Destination : telemetry::Reporter::Source;
  if (ds.inbound) {
    r.destination = engine.options.localPeer;
  } else {
    r.source = engine.options.localPeer;
  }
  r.requestProtocol = "tcp";
  r.startTime = std::chrono::system_clock::now();
  r.downstreamRemoteAddress = ds.info.sourceAddress + ":" + std::to_string(ds.info.sourcePort);
  r.downstreamLocalAddress = ds.info.destinationAddress + ":" + std::to_string(ds.info.destinationPort);
  r.requestedServerName = ds.info.serverName;
  r.upstreamCluster.assign(clusterName);
  if (ds.inbound && ds.tls && ds.tls->peer) {  // the client's side, as the TLS handshake proved it
    r.mutualTls = true;
    if (!ds.info.peerPrincipal.empty()) r.source.principal = ds.info.peerPrincipal;
  }
}

void setDestination(telemetry::RequestRecord& r, const Engine& engine, const Downstream& ds, const Cluster& cluster,
                    const Endpoint* endpoint) {
  r.upstreamCluster = cluster.name;
  r.destinationService = cluster.service.host;
  r.destinationServiceName = cluster.service.name;
  r.destinationServiceNamespace = cluster.service.namespace_;
  if (ds.inbound) {
    r.destination = engine.options.localPeer;
  } else if (endpoint != nullptr && endpoint->workload) {
    r.destination = *endpoint->workload;
  } else {
    r.destination = {};
  }
  if (!ds.inbound && endpoint != nullptr) r.mutualTls = upstreamMutualTls(cluster, *endpoint);
}

bool upstreamMutualTls(const Cluster& cluster, const Endpoint& endpoint) {
  auto tls = cluster.tlsFor(endpoint);
  return tls && !tls->common.certificates.empty();
}

HttpRequestTelemetry::HttpRequestTelemetry(Engine& engine, const Downstream& ds)
    : observer_(engine.options.observer.get()) {
  if (observer_ == nullptr) return;
  fillConnectionRecord(record_, engine, ds, {});
  record_.requestProtocol = "http";
}

HttpRequestTelemetry::~HttpRequestTelemetry() {
  if (observer_ == nullptr) return;
  auto now = std::chrono::steady_clock::now();
  record_.duration = std::chrono::duration_cast<std::chrono::microseconds>(now - start_);
  if (upstreamAnsweredAt_ != std::chrono::steady_clock::time_point{} &&
      upstreamStartedAt_ != std::chrono::steady_clock::time_point{})
    record_.upstreamServiceTime =
        std::chrono::duration_cast<std::chrono::microseconds>(upstreamAnsweredAt_ - upstreamStartedAt_);
  record_.responseFlags = telemetry::responseFlagsString(flags_);
  // The observer runs on the request path and must not throw; a failure there must not take
  // the connection (or, from a destructor, the process) with it.
  try {
    observer_->onRequest(record_);
  } catch (const std::exception&) {
  }
}

}  // namespace mesh::proxy::dataplane
