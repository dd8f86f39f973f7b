// What the data plane tells its RequestObserver: helpers that fill a telemetry::RequestRecord
// from a connection, the chosen cluster and endpoint (Istio's reporter, source and destination
// labels), and HttpRequestTelemetry, which the router keeps for one request and which reports
// the record once the request is done (on every exit path, local replies included). Worker
// thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "proxy/dataplane/engine.h"
#include "proxy/telemetry/request_record.h"
#include "proxy/telemetry/response_flags.h"

namespace mesh::proxy::dataplane {

// Reporter, local side, downstream addresses, start time, the upstream cluster's name.
void fillConnectionRecord(telemetry::RequestRecord& r, const Engine& engine, const Downstream& ds,
                          std::string_view clusterName);
// The destination service from the cluster; the remote workload from the endpoint's metadata
// (outbound), or this proxy's workload (inbound).
void setDestination(telemetry::RequestRecord& r, const Engine& engine, const Downstream& ds, const Cluster& cluster,
                    const Endpoint* endpoint);
// connection_security_policy of outbound traffic: mutual_tls when the endpoint's TLS sends our certificate.
bool upstreamMutualTls(const Cluster& cluster, const Endpoint& endpoint);

class HttpRequestTelemetry {
 public:
  // Inactive (every call a no-op) when the engine has no observer.
  HttpRequestTelemetry(Engine& engine, const Downstream& ds);
  ~HttpRequestTelemetry();  // reports the request
  HttpRequestTelemetry(const HttpRequestTelemetry&) = delete;
  HttpRequestTelemetry& operator=(const HttpRequestTelemetry&) = delete;

  bool active() const { return observer_ != nullptr; }
  telemetry::RequestRecord& record() { return record_; }
  void setFlag(uint32_t flag) { flags_ |= flag; }
  void setResponse(unsigned status, std::string_view details) {
    record_.responseCode = status;
    if (active()) record_.responseCodeDetails.assign(details);
  }
  void addBytesSent(uint64_t n) { record_.bytesSent += n; }
  void upstreamAnswered() { upstreamAnsweredAt_ = std::chrono::steady_clock::now(); }
  // Before the first upstream try: the upstream service time counts from here.
  void upstreamStarted() { upstreamStartedAt_ = std::chrono::steady_clock::now(); }

 private:
  telemetry::RequestObserver* observer_;
  telemetry::RequestRecord record_;
  uint32_t flags_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point upstreamStartedAt_{};
  std::chrono::steady_clock::time_point upstreamAnsweredAt_{};
};

}  // namespace mesh::proxy::dataplane
