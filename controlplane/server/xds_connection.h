// XdsConnection: the xDS protocol state of one ADS stream, independent of gRPC so tests drive
// it directly. State of the world and delta (incremental) variants; per-type subscriptions
// (wildcard or named), nonces, versions, ACK/NACK bookkeeping, and "send only what changed".
// The owning stream serializes every call (one SerialQueue per stream); status() may be
// called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "controlplane/model/proxy.h"
#include "controlplane/server/name_table.h"
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
                NameTable& names, ConnectionHooks hooks);

  void onRequest(const DiscoveryRequest& request, const PushContext& push);
  void onDeltaRequest(const DeltaDiscoveryRequest& request, const PushContext& push);
  // A new config generation: regenerate the affected subscribed types and send what changed,
  // in Istio's order (CDS, EDS, LDS, RDS).
  void push(const PushContext& push);

  const model::Proxy& proxy() const { return proxy_; }
  ProxyStatus status() const;
  // What the proxy subscribes to, by type URL (types it has not asked for are absent).
  std::map<std::string, TypeSubscription> subscriptions() const;

 private:
  // Per-stream state is kept as NameTable ids, not strings: a thousand proxies subscribed to
  // the same thousands of clusters would otherwise hold a thousand copies of every name.
  struct SentEntry {
    uint32_t name;   // NameTable id
    uint64_t hash;   // content hash the proxy holds
  };
  struct TypeState {
    bool subscribed = false;   // the proxy asked for this type on this stream
    bool wildcard = false;
    std::vector<uint32_t> names;  // subscribed NameTable ids, sorted by id
    uint64_t namesDigest = 0;     // of `names`; equal subscriptions share generated results
    std::vector<SentEntry> sent;  // what the proxy holds, sorted by id
    std::string pendingNonce;
    std::chrono::steady_clock::time_point pendingTrigger{};
    TypeSyncStatus status;

    bool subscribedTo(uint32_t id) const { return std::ranges::binary_search(names, id); }
    const SentEntry* holds(uint32_t id) const;
  };

  void respond(const std::string& typeUrl, TypeState& st, const PushContext& push, bool force);
  std::optional<xds::GeneratedResources> generate(const std::string& typeUrl, const TypeState& st, const PushContext& push);
  std::string nextNonce();
  TypeState& stateFor(const std::string& typeUrl);
  // Replaces st.names (caller holds statusMu_).
  void setNames(TypeState& st, std::vector<uint32_t> ids);
  void recordAck(TypeState& st, const std::string& version, const std::string& nonce);
  // `generation` changes nothing the proxy holds for this type: it is current at it once the
  // response in flight (if any) is ACKed.
  void markCurrent(TypeState& st, uint64_t generation);
  void recordNack(TypeState& st, const std::string& type, const std::string& message);

  const uint64_t id_;
  const model::Proxy proxy_;
  const bool delta_;
  const xds::GeneratorSet& generators_;
  NameTable& nameTable_;
  ConnectionHooks hooks_;
  uint64_t nonceCounter_ = 0;
  // Guards types_' map shape and its subscription and status fields for status() and
  // subscriptions() readers; the stream's own thread reads them without it.
  mutable std::mutex statusMu_;
  std::map<std::string, TypeState, std::less<>> types_;
  std::chrono::system_clock::time_point connectedAt_ = std::chrono::system_clock::now();
};

}  // namespace mesh::server
