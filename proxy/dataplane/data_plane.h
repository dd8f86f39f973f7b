// DataPlane: meshproxy's traffic path. It implements ConfigConsumer (the xDS client offers each
// snapshot to apply(): compiled and validated, then swapped in atomically; in-flight requests
// keep the config they started with), binds the listeners the config asks for, and serves
// HTTP/1.1 and TCP on N worker threads, one Asio io_context each. main.cpp builds it from
// flags, calls start(), then drain() and stop() on shutdown. apply() may be called from any
// one thread (the xDS client's); the other methods from the owning (main) thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "proxy/dataplane/runtime_config.h"
#include "proxy/dataplane/secret_store.h"
#include "proxy/telemetry/request_observer.h"
#include "proxy/xds/xds_snapshot.h"

namespace mesh::proxy::dataplane {

// Local mode without iptables: connections accepted on listenAddress:listenPort are handled
// as if their original destination were originalAddress:originalPort (e.g. the outbound
// listener "0.0.0.0_8080", or virtualOutbound's filter chain for port 8080).
struct OutboundBind {
  std::string listenAddress = "127.0.0.1";
  uint16_t listenPort = 0;
  std::string originalAddress = "0.0.0.0";
  uint16_t originalPort = 0;
};
// Parses "127.0.0.1:18080=8080" or "127.0.0.1:18080=10.0.0.5:8080".
Result<OutboundBind> parseOutboundBind(const std::string& spec);

struct DataPlaneOptions {
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
  std::vector<OutboundBind> outboundBinds;
  // Request bodies up to this size are buffered so retries and mirrors can replay them;
  // larger ones are streamed to one upstream try (Envoy's buffer limit default is 1 MiB).
  uint64_t maxRequestBodyBytes = 1024 * 1024;
  std::string nodeId;  // compared with fault filters' downstream_nodes
  std::chrono::milliseconds drainTimeout{5000};
  // Told about every finished request and TCP connection (Istio's metrics, access logs);
  // null: no telemetry.
  std::shared_ptr<telemetry::RequestObserver> observer;
  // This proxy's workload (from its node metadata): the source side of outbound traffic and
  // the destination side of inbound traffic in telemetry.
  telemetry::PeerInfo localPeer;
  // TLS certificates and trusted roots by SDS name; null: TLS sockets that name one fail.
  std::shared_ptr<SecretStore> secrets;
};

// What the admin endpoint shows about the data plane.
struct DataPlaneStats {
  uint64_t downstreamConnections = 0;  // accepted since start
  uint64_t requests = 0;
  uint64_t localReplies = 0;
  uint64_t upstreamRequests = 0;
  uint64_t retries = 0;
  uint64_t overflows = 0;
};

// One cluster's live state, for the admin endpoint's /clusters.
struct ClusterStatus {
  std::string name;
  uint32_t activeConnections = 0;
  uint32_t pendingRequests = 0;
  uint32_t activeRequests = 0;
  uint32_t activeRetries = 0;
  CircuitBreakers circuitBreakers;
  struct Host {
    Endpoint endpoint;
    uint32_t activeRequests = 0;
    bool ejected = false;  // by outlier detection
  };
  std::vector<Host> hosts;
};

class Engine;

class DataPlane : public ConfigConsumer {
 public:
  explicit DataPlane(DataPlaneOptions options);
  ~DataPlane() override;
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  Result<void> apply(std::shared_ptr<const XdsSnapshot> candidate) override;
  // Binds the outbound binds and starts the worker threads. Listeners from apply() before or
  // after start() are bound when applied.
  Result<void> start();
  // Stops accepting; open connections finish their current request and close.
  void drain();
  // Closes everything and joins the workers. Idempotent.
  void stop();

  std::shared_ptr<const RuntimeConfig> currentConfig() const;
  // The port a bound listener (or an outbound bind, by "outbound-bind:<index>") listens on;
  // useful when the config asks for port 0.
  std::optional<uint16_t> boundPort(const std::string& listenerName) const;
  DataPlaneStats stats() const;
  std::vector<ClusterStatus> clusterStatuses() const;

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace mesh::proxy::dataplane
