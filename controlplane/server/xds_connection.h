// XdsConnection: the xDS protocol state of one ADS stream, independent of gRPC so tests drive
// it directly. State of the world and delta (incremental) variants; per-type subscriptions
// (wildcard or named), nonces, versions, ACK/NACK bookkeeping, and "send only what changed".
// The owning stream serializes every call (one SerialQueue per stream); status() may be
// called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "controlplane/model/proxy.h"
#include "controlplane/server/proxy_status.h"
#include "controlplane/server/push_context.h"
#include "controlplane/xds/generator_set.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace mesh::server {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// Hooks the server gives a connection: where responses go, and what to count.
struct ConnectionHooks {
  std::function<void(std::shared_ptr<const DiscoveryResponse>)> send;
  std::function<void(std::shared_ptr<const DeltaDiscoveryResponse>)> sendDelta;
  // A response sent: its type, payload bytes and the seconds spent generating and queueing it.
  std::function<void(std::string_view typeUrl, size_t bytes, double seconds)> onPushed;
  std::function<void(const model::Proxy&, std::string_view typeUrl, std::string_view message)> onNack;
  // A generator failed (a bug in meshd): nothing is sent for that type, the proxy keeps what
  // it has.
  std::function<void(const model::Proxy&, std::string_view typeUrl, std::string_view what)> onInternalError;
  // Seconds from a push's trigger to the proxy's ACK of it.
  std::function<void(double seconds)> onConverged;
};

class XdsConnection {
 public:
  XdsConnection(uint64_t id, model::Proxy proxy, bool delta, const xds::GeneratorSet& generators,
                ConnectionHooks hooks);

  void onRequest(const DiscoveryRequest& request, const PushContext& push);
  void onDeltaRequest(const DeltaDiscoveryRequest& request, const PushContext& push);
  // A new config generation: regenerate the affected subscribed types and send what changed,
  // in Istio's order (CDS, EDS, LDS, RDS).
  void push(const PushContext& push);

  const model::Proxy& proxy() const { return proxy_; }
  ProxyStatus status() const;

 private:
  struct TypeState {
    bool subscribed = false;   // the proxy asked for this type on this stream
    bool wildcard = false;
    std::set<std::string, std::less<>> names;
    std::map<std::string, uint64_t, std::less<>> sent;  // name → content hash the proxy holds
    std::string pendingNonce;
    std::chrono::steady_clock::time_point pendingTrigger{};
    TypeSyncStatus status;
  };

  void respond(const std::string& typeUrl, TypeState& st, const PushContext& push, bool force);
  std::optional<xds::XdsResources> generate(const std::string& typeUrl, const TypeState& st, const PushContext& push);
  std::string nextNonce();
  TypeState& stateFor(const std::string& typeUrl);

  const uint64_t id_;
  const model::Proxy proxy_;
  const bool delta_;
  const xds::GeneratorSet& generators_;
  ConnectionHooks hooks_;
  uint64_t nonceCounter_ = 0;
  mutable std::mutex statusMu_;  // guards types_' status fields for status() readers
  std::map<std::string, TypeState, std::less<>> types_;
  std::chrono::system_clock::time_point connectedAt_ = std::chrono::system_clock::now();
};

}  // namespace mesh::server
