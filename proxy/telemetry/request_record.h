// RequestRecord: what the data plane knows about one finished HTTP request or TCP connection,
// handed to telemetry (Istio's standard metrics, access logs). Filled on the request's thread
// and passed by const reference; telemetry copies what it keeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mesh::proxy::telemetry {

// One side of the traffic as Istio labels it (peer metadata: workload, namespace, app, version,
// principal, cluster). "unknown" is written for what is not known, as Istio does.
struct PeerInfo {
  std::string workload;
  std::string workloadNamespace;
  std::string principal;  // spiffe://cluster.local/ns/NS/sa/SA
  std::string app;
  std::string version;
  std::string cluster;
  std::string canonicalService;
  std::string canonicalRevision;
};

enum class Reporter { Source, Destination };  // outbound (client sidecar) / inbound (server sidecar)

struct RequestRecord {
  Reporter reporter = Reporter::Source;
  PeerInfo source;
  PeerInfo destination;
  std::string destinationService;           // FQDN: payments-api.payments.svc.cluster.local
  std::string destinationServiceName;       // payments-api
  std::string destinationServiceNamespace;  // payments
  std::string requestProtocol = "http";     // http, grpc, tcp
  bool mutualTls = false;  // TLS with a client certificate (connection_security_policy, destination reporter)

  // HTTP only.
  std::string method;
  std::string path;
  std::string authority;
  std::string protocol;  // HTTP/1.1, HTTP/2
  uint32_t responseCode = 0;
  std::string grpcStatus;     // grpc-status of the response, "" when none
  std::string responseFlags;  // Envoy's short flags: "-", "UH", "UF", "UT", "URX", "NR", "DI", "FI", "UO", ...
  std::string responseCodeDetails;
  std::string requestId;
  std::string userAgent;
  std::string forwardedFor;
  std::string routeName;
  std::string traceparent;

  std::string upstreamCluster;
  std::string upstreamHost;              // 127.0.0.1:9001
  std::string downstreamRemoteAddress;   // 127.0.0.1:53412
  std::string downstreamLocalAddress;    // 127.0.0.1:15001
  std::string requestedServerName;

  uint64_t bytesReceived = 0;  // request body (TCP: bytes from downstream)
  uint64_t bytesSent = 0;      // response body (TCP: bytes to downstream)
  std::chrono::system_clock::time_point startTime{};
  std::chrono::microseconds duration{0};
  std::chrono::microseconds upstreamServiceTime{-1};  // -1: no upstream answered
};

}  // namespace mesh::proxy::telemetry
