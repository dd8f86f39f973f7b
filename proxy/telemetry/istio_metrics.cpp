#include "proxy/telemetry/istio_metrics.h"

#include <string>
#include <vector>

namespace mesh::proxy::telemetry {
namespace {

// Envoy's default histogram buckets, which Istio's duration histogram keeps.
const std::vector<double> kDurationBuckets = {0.5,  1,    5,     10,    25,     50,     100,     250,     500,    1000,
                                              2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
const std::vector<double> kByteBuckets = {1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8, 1e9};

std::string orUnknown(const std::string& v) { return v.empty() ? "unknown" : v; }

// Source and destination labels, shared by HTTP and TCP metrics.
void appendPeerLabels(const RequestRecord& r, std::vector<std::string>& out) {
  out.push_back(r.reporter == Reporter::Source ? "source" : "destination");
  for (const PeerInfo* p : {&r.source, &r.destination}) {
    out.push_back(orUnknown(p->workload));
    out.push_back(orUnknown(p->workloadNamespace));
    out.push_back(orUnknown(p->principal));
    out.push_back(orUnknown(p->app));
    out.push_back(orUnknown(p->version));
    out.push_back(orUnknown(p->cluster));
    out.push_back(orUnknown(p->canonicalService));
    out.push_back(p->canonicalRevision.empty() ? "latest" : p->canonicalRevision);
    if (p == &r.destination) {
      out.push_back(orUnknown(r.destinationService));
      out.push_back(orUnknown(r.destinationServiceName));
      out.push_back(orUnknown(r.destinationServiceNamespace));
    }
  }
}

std::vector<std::string> peerLabelNames() {
  std::vector<std::string> names{"reporter"};
  for (const char* side : {"source", "destination"}) {
    for (const char* field : {"workload", "workload_namespace", "principal", "app", "version", "cluster",
                              "canonical_service", "canonical_revision"})
      names.push_back(std::string(side) + "_" + field);
    if (std::string_view(side) == "destination")
      for (const char* field : {"service", "service_name", "service_namespace"})
        names.push_back(std::string("destination_") + field);
  }
  return names;
}

std::string securityPolicy(const RequestRecord& r) { return r.mutualTls ? "mutual_tls" : "none"; }

}  // namespace

const std::vector<std::string>& IstioMetrics::requestLabelNames() {
  static const std::vector<std::string> names = [] {
    auto n = peerLabelNames();
    for (const char* extra :
         {"request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy"})
      n.emplace_back(extra);
    return n;
  }();
  return names;
}

const std::vector<std::string>& IstioMetrics::tcpLabelNames() {
  static const std::vector<std::string> names = [] {
    auto n = peerLabelNames();
    for (const char* extra : {"request_protocol", "response_flags", "connection_security_policy"}) n.emplace_back(extra);
    return n;
  }();
  return names;
}

IstioMetrics::IstioMetrics(metrics::Registry& registry)
    : requests_(registry.counter("istio_requests_total", "Requests handled by the proxy", requestLabelNames())),
      duration_(registry.histogram("istio_request_duration_milliseconds", "Request duration in milliseconds",
                                   kDurationBuckets, requestLabelNames())),
      requestBytes_(registry.histogram("istio_request_bytes", "Request body sizes in bytes", kByteBuckets,
                                       requestLabelNames())),
      responseBytes_(registry.histogram("istio_response_bytes", "Response body sizes in bytes", kByteBuckets,
                                        requestLabelNames())),
      tcpSent_(registry.counter("istio_tcp_sent_bytes_total", "Bytes sent in response over TCP", tcpLabelNames())),
      tcpReceived_(registry.counter("istio_tcp_received_bytes_total", "Bytes received in request over TCP",
                                    tcpLabelNames())),
      tcpOpened_(registry.counter("istio_tcp_connections_opened_total", "TCP connections opened", tcpLabelNames())),
      tcpClosed_(registry.counter("istio_tcp_connections_closed_total", "TCP connections closed", tcpLabelNames())) {}

void IstioMetrics::recordRequest(const RequestRecord& r) {
  std::vector<std::string> labels;
  labels.reserve(requestLabelNames().size());
  appendPeerLabels(r, labels);
  labels.push_back(r.requestProtocol);
  labels.push_back(std::to_string(r.responseCode));
  labels.push_back(r.grpcStatus.empty() ? "-" : r.grpcStatus);
  labels.push_back(r.responseFlags.empty() ? "-" : r.responseFlags);
  labels.push_back(securityPolicy(r));
  requests_.with(labels).inc();
  duration_.with(labels).observe(static_cast<double>(r.duration.count()) / 1000.0);
  requestBytes_.with(labels).observe(static_cast<double>(r.bytesReceived));
  responseBytes_.with(labels).observe(static_cast<double>(r.bytesSent));
}

namespace {

std::vector<std::string> tcpLabels(const RequestRecord& r) {
  std::vector<std::string> labels;
  labels.reserve(IstioMetrics::tcpLabelNames().size());
  appendPeerLabels(r, labels);
  labels.push_back("tcp");
  labels.push_back(r.responseFlags.empty() ? "-" : r.responseFlags);
  labels.push_back(securityPolicy(r));
  return labels;
}

}  // namespace

void IstioMetrics::recordTcpOpened(const RequestRecord& r) { tcpOpened_.with(tcpLabels(r)).inc(); }

void IstioMetrics::recordTcpClosed(const RequestRecord& r) {
  auto labels = tcpLabels(r);
  tcpClosed_.with(labels).inc();
  tcpSent_.with(labels).add(static_cast<double>(r.bytesSent));
  tcpReceived_.with(labels).add(static_cast<double>(r.bytesReceived));
}

}  // namespace mesh::proxy::telemetry
