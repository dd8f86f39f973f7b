// AdsServer: Envoy's Aggregated Discovery Service (state of the world and delta) over gRPC's
// callback API. Each stream gets an XdsConnection and a SerialQueue on a worker pool, so
// generation never blocks gRPC's threads; publish() fans a new config generation out to every
// stream. Knows nothing of Istio: proxies, generators and config come in from outside.
// publish(), proxies(), connected() and connectedProxy() may be called from any thread.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "controlplane/server/name_table.h"
#include "controlplane/server/proxy_status.h"
#include "controlplane/server/push_context.h"
#include "controlplane/server/worker_pool.h"
#include "controlplane/xds/generator_set.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace mesh::server {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

struct AdsServerOptions {
  size_t maxStreams = 20000;      // more are refused with RESOURCE_EXHAUSTED
  unsigned workerThreads = 0;     // 0: one per core
  // Push admission (Istio's PILOT_PUSH_THROTTLE): at most this many streams build pushes at
  // once, and none starts while responses waiting to be written exceed the byte budget. Keeps
  // a full push to thousands of proxies from holding every proxy's response in memory at once.
  // Requests are admitted the same way (their own count), so a thousand proxies connecting at
  // once do not each get a multi-megabyte first response built before any is written.
  size_t maxConcurrentPushes = 16;
  size_t maxQueuedBytes = 256u << 20;
};

// What the server reports; meshd wires these to its metrics and log.
struct AdsServerHooks {
  std::function<void(std::string_view typeUrl, size_t bytes, double seconds)> pushed;
  std::function<void(const model::Proxy&, std::string_view typeUrl, std::string_view message)> rejected;
  std::function<void(double seconds)> converged;
  std::function<void(const model::Proxy&, std::string_view typeUrl, std::string_view what)> internalError;
  std::function<void(const model::Proxy&, bool connected)> connection;
  std::function<void(std::string_view message)> log;
};

// One connected proxy as a debug reader sees it: a copy, safe to keep.
struct ConnectedProxy {
  model::Proxy proxy;
  ProxyStatus status;
  std::map<std::string, TypeSubscription> subscriptions;  // by type URL
};

class AdsServer final : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  AdsServer(const xds::GeneratorSet& generators, AdsServerOptions options, AdsServerHooks hooks);
  ~AdsServer() override;

  // Makes `push` current and sends what changed to every connected proxy.
  void publish(std::shared_ptr<const PushContext> push);
  std::shared_ptr<const PushContext> current() const;

  std::vector<ProxyStatus> proxies() const;
  size_t connected() const;
  // The proxy with this node id, else with this "name.namespace"; the newest stream wins when
  // a proxy has more than one. nullopt when none is connected.
  std::optional<ConnectedProxy> connectedProxy(std::string_view idOrName) const;

  grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>* StreamAggregatedResources(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>* DeltaAggregatedResources(
      grpc::CallbackServerContext* context) override;

  class Stream;  // shared state of one stream, see ads_server.cpp

 private:
  template <typename Req, typename Resp>
  friend class StreamReactor;

  bool attach(const std::shared_ptr<Stream>& stream);
  // Starts waiting pushes and requests while the concurrency and byte budgets allow.
  void admit();
  // Runs `handle` (one request of `stream`) on the stream's queue once admitted; a stream's
  // requests run in arrival order.
  void admitRequest(const std::shared_ptr<Stream>& stream, std::function<void()> handle);
  void runRequests(const std::shared_ptr<Stream>& stream, std::deque<std::function<void()>> handles);
  void detach(uint64_t id);

  const xds::GeneratorSet& generators_;
  AdsServerOptions options_;
  AdsServerHooks hooks_;
  WorkerPool pool_;
  NameTable names_;  // resource names of every stream, stored once
  std::atomic<uint64_t> nextId_{1};
  mutable std::mutex mu_;
  std::shared_ptr<const PushContext> current_;
  std::map<uint64_t, std::shared_ptr<Stream>> streams_;
  std::deque<std::weak_ptr<Stream>> waiting_;  // streams with a push to make, in order
  size_t pushesRunning_ = 0;
  std::deque<std::weak_ptr<Stream>> requestsWaiting_;  // streams with requests to handle, in order
  size_t requestsRunning_ = 0;
  std::atomic<size_t> queuedBytes_{0};         // responses queued on streams, not yet written
};

}  // namespace mesh::server
