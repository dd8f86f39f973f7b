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

// Local mode without iptables, where many sidecars share one host: a port the proxy listens on
// and the original destination its connections are served as if they had been redirected
// from. Outbound: the listener owning ORIGINAL ("<ip>_8080" / "0.0.0.0_8080"), else
// virtualOutbound's chains for its port (the --outbound-bind flag). Inbound: virtualInbound's
// chains, matched against ORIGINAL, which defaults to the listen address (--inbound-bind).
enum class BindDirection { Outbound, Inbound };

struct LocalBind {
  BindDirection direction = BindDirection::Outbound;
  std::string listenAddress = "127.0.0.1";
  uint16_t listenPort = 0;
  std::string originalAddress = "0.0.0.0";  // outbound: 0.0.0.0 when only a port was given
  uint16_t originalPort = 0;
};
// Outbound: "127.0.0.1:18080=8080" or "127.0.0.1:18080=10.0.0.5:8080".
// Inbound: "127.0.0.11:18081", "127.0.0.11:28081=18081" or "127.0.0.11:28081=10.0.0.5:18081".
Result<LocalBind> parseLocalBind(const std::string& spec, BindDirection direction);
// The name DataPlane::boundPort() knows a local bind by: "outbound-bind:<i>" or
// "inbound-bind:<i>", i counting the binds of that direction in DataPlaneOptions::localBinds.
std::string localBindName(BindDirection direction, size_t index);

// Where an xDS listener with bind_to_port binds instead of its own address (port 0: an
// ephemeral port), or that it does not bind at all: local sidecars would otherwise all want
// 15001 and 15006, and two local gateways the same gateway port.
struct ListenerBind {
  std::string listener;
  bool disabled = false;
  std::string address;
  uint16_t port = 0;
};
// "virtualOutbound=none", "0.0.0.0_8080=127.0.0.1:18080", "virtualInbound=127.0.0.1:0".
Result<ListenerBind> parseListenerBind(const std::string& spec);

struct DataPlaneOptions {
  unsigned threads = 0;  // 0: std::thread::hardware_concurrency()
  std::vector<LocalBind> localBinds;
  std::vector<ListenerBind> listenerBinds;  // by listener name; the last one given wins
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
  uint64_t rbacAllowed = 0;  // RBAC filters (HTTP and network) that allowed / denied
  uint64_t rbacDenied = 0;
  uint64_t jwtDenied = 0;    // requests jwt_authn answered with 401 / 403
  uint64_t extAuthzAllowed = 0;  // ext_authz checks that allowed / denied / failed (errors)
  uint64_t extAuthzDenied = 0;
  uint64_t extAuthzErrors = 0;
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
  // Binds the local binds and starts the worker threads. Listeners from apply() before or
  // after start() are bound when applied.
  Result<void> start();
  // Stops accepting; open connections finish their current request and close.
  void drain();
  // Closes everything and joins the workers. Idempotent.
  void stop();

  std::shared_ptr<const RuntimeConfig> currentConfig() const;
  // The port a bound listener (or a local bind, by localBindName()) listens on;
  // useful when the config asks for port 0.
  std::optional<uint16_t> boundPort(const std::string& listenerName) const;
  DataPlaneStats stats() const;
  std::vector<ClusterStatus> clusterStatuses() const;

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace mesh::proxy::dataplane
