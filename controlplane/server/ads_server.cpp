#include "controlplane/server/ads_server.h"

#include <malloc.h>

#include <deque>
#include <thread>

#include <fmt/format.h>

#include "controlplane/server/node_identity.h"
#include "controlplane/server/xds_connection.h"

namespace mesh::server {
namespace {

// Whether gRPC's peer URI names this host: 127.0.0.0/8, ::1 (also IPv4-mapped) or a Unix socket.
bool isLocalPeer(std::string_view peer) {
  return peer.starts_with("ipv4:127.") || peer.starts_with("ipv6:[::1]:") ||
         peer.starts_with("ipv6:[::ffff:127.") || peer.starts_with("unix:") || peer.starts_with("unix-abstract:");
}

}  // namespace

// One stream's state shared by its reactor (gRPC threads) and its queued work (pool threads).
class AdsServer::Stream {
 public:
  Stream(uint64_t id, WorkerPool& pool) : id_(id), queue_(std::make_shared<SerialQueue>(pool)) {}

  uint64_t id() const { return id_; }
  SerialQueue& queue() { return *queue_; }
  std::unique_ptr<XdsConnection> connection;  // set once, on the stream's first request
  bool pushWaiting = false;                   // queued in AdsServer::waiting_ (guarded by its mu_)
  // Requests not yet admitted, in arrival order, and whether the stream is in
  // AdsServer::requestsWaiting_ (both guarded by its mu_).
  std::deque<std::function<void()>> requests;
  bool requestsWaiting = false;

 private:
  uint64_t id_;
  std::shared_ptr<SerialQueue> queue_;
};

// gRPC reactor for both ADS flavours. Reads one request at a time, hands it to the stream's
// serial queue, and keeps at most one write in flight, queueing the rest in order.
template <typename Req, typename Resp>
class StreamReactor final : public grpc::ServerBidiReactor<Req, Resp> {
 public:
  StreamReactor(AdsServer& server, bool delta, std::string peer)
      : server_(server), delta_(delta), peer_(std::move(peer)), stream_(std::make_shared<AdsServer::Stream>(server.nextId_++, server.pool_)),
        writer_(std::make_shared<Writer>()) {
    writer_->reactor = this;
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the proxy closed its side, or the stream broke
      finish(grpc::Status::OK);
      return;
    }
    if (!stream_->connection) {
      auto err = start();
      if (!err.ok()) {
        finish(err);
        return;
      }
    }
    if (request_.type_url().empty()) {
      finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request has no type_url"));
      return;
    }
    auto req = std::make_shared<Req>(std::move(request_));
    request_.Clear();
    auto* stream = stream_.get();  // the queued work runs while the stream lives (runRequests)
    AdsServer* server = &server_;
    server_.admitRequest(stream_, [stream, server, req] {
      auto push = server->current();
      if (!push) return;
      if constexpr (std::is_same_v<Req, DeltaDiscoveryRequest>) stream->connection->onDeltaRequest(*req, *push);
      else stream->connection->onRequest(*req, *push);
    });
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(writer_->mu);
      server_.queuedBytes_ -= writer_->sizes.front();
      writer_->queue.pop_front();
      writer_->sizes.pop_front();
      if (!ok) {
        dropQueued();
      } else if (!writer_->queue.empty()) {
        this->StartWrite(writer_->queue.front().get());
      }
    }
    server_.admit();  // sent bytes may make room for waiting pushes
  }

  void OnDone() override {
    {
      std::lock_guard lock(writer_->mu);
      writer_->reactor = nullptr;
      dropQueued();
    }
    if (attached_) server_.detach(stream_->id());
    delete this;
  }

 private:
  struct Writer {
    std::mutex mu;
    StreamReactor* reactor = nullptr;  // null once gRPC is done with the stream
    std::deque<std::shared_ptr<const Resp>> queue;
    std::deque<size_t> sizes;  // bytes of each queued response, for the server's budget
    bool finished = false;
  };

  // Forgets responses that will never be written (caller holds writer_->mu).
  void dropQueued() {
    for (size_t b : writer_->sizes) server_.queuedBytes_ -= b;
    writer_->queue.clear();
    writer_->sizes.clear();
  }

  grpc::Status start() {
    auto proxy = proxyFromNode(request_.node());
    if (!proxy) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, proxy.error().message);
    proxy->localPeer = isLocalPeer(peer_);
    std::weak_ptr<Writer> writer = writer_;
    ConnectionHooks hooks;
    AdsServer* server = &server_;
    auto send = [writer, server](auto resp) {
      auto w = writer.lock();
      if (!w) return;
      size_t bytes = resp->ByteSizeLong();
      std::lock_guard lock(w->mu);
      if (!w->reactor || w->finished) return;
      server->queuedBytes_ += bytes;
      w->queue.push_back(std::move(resp));
      w->sizes.push_back(bytes);
      if (w->queue.size() == 1) w->reactor->StartWrite(w->queue.front().get());
    };
    if constexpr (std::is_same_v<Resp, DeltaDiscoveryResponse>) hooks.sendDelta = send;
    else hooks.send = send;
    const AdsServerHooks& sh = server_.hooks_;
    hooks.onPushed = sh.pushed;
    hooks.onConverged = sh.converged;
    hooks.onNack = sh.rejected;
    hooks.onInternalError = sh.internalError;
    stream_->connection = std::make_unique<XdsConnection>(stream_->id(), std::move(*proxy), delta_,
                                                          server_.generators_, server_.names_, std::move(hooks));
    if (!server_.attach(stream_))
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          fmt::format("meshd serves at most {} xDS streams", server_.options_.maxStreams));
    attached_ = true;
    return grpc::Status::OK;
  }

  void finish(const grpc::Status& status) {
    std::lock_guard lock(writer_->mu);
    if (writer_->finished) return;
    writer_->finished = true;
    this->Finish(status);
  }

  AdsServer& server_;
  bool delta_;
  std::string peer_;  // gRPC's peer URI: "ipv4:127.0.0.1:PORT", "ipv6:[::1]:PORT", "unix:PATH"
  std::shared_ptr<AdsServer::Stream> stream_;
  std::shared_ptr<Writer> writer_;
  Req request_;
  bool attached_ = false;
};

AdsServer::AdsServer(const xds::GeneratorSet& generators, AdsServerOptions options, AdsServerHooks hooks)
    : generators_(generators), options_(options), hooks_(std::move(hooks)),
      pool_(options.workerThreads ? options.workerThreads : std::max(1u, std::thread::hardware_concurrency())) {}

AdsServer::~AdsServer() = default;

void AdsServer::publish(std::shared_ptr<const PushContext> push) {
  {
    std::lock_guard lock(mu_);
    current_ = std::move(push);
    // Every stream waits its turn; one already waiting will push the newest config anyway.
    for (auto& [id, s] : streams_)
      if (!std::exchange(s->pushWaiting, true)) waiting_.push_back(s);
  }
  admit();
}

void AdsServer::admitRequest(const std::shared_ptr<Stream>& stream, std::function<void()> handle) {
  {
    std::lock_guard lock(mu_);
    bool room = requestsRunning_ < options_.maxConcurrentPushes && queuedBytes_.load() < options_.maxQueuedBytes;
    if (!room || stream->requestsWaiting) {
      stream->requests.push_back(std::move(handle));
      if (!std::exchange(stream->requestsWaiting, true)) requestsWaiting_.push_back(stream);
      return;
    }
    ++requestsRunning_;
  }
  std::deque<std::function<void()>> one;
  one.push_back(std::move(handle));
  runRequests(stream, std::move(one));
}

void AdsServer::runRequests(const std::shared_ptr<Stream>& stream, std::deque<std::function<void()>> handles) {
  stream->queue().post([this, stream, handles = std::move(handles)] {
    for (const auto& handle : handles) handle();
    {
      std::lock_guard lock(mu_);
      --requestsRunning_;
    }
    admit();
  });
}

void AdsServer::admit() {
  std::vector<std::pair<std::shared_ptr<Stream>, std::deque<std::function<void()>>>> requests;
  std::vector<std::shared_ptr<Stream>> admitted;
  {
    std::lock_guard lock(mu_);
    while (!requestsWaiting_.empty() && requestsRunning_ < options_.maxConcurrentPushes &&
           queuedBytes_.load() < options_.maxQueuedBytes) {
      auto s = requestsWaiting_.front().lock();
      requestsWaiting_.pop_front();
      if (!s) continue;  // disconnected while waiting
      s->requestsWaiting = false;
      ++requestsRunning_;
      requests.emplace_back(s, std::exchange(s->requests, {}));
    }
    while (!waiting_.empty() && pushesRunning_ < options_.maxConcurrentPushes &&
           queuedBytes_.load() < options_.maxQueuedBytes) {
      auto s = waiting_.front().lock();
      waiting_.pop_front();
      if (!s) continue;  // disconnected while waiting
      s->pushWaiting = false;
      ++pushesRunning_;
      admitted.push_back(std::move(s));
    }
  }
  for (auto& [s, handles] : requests) runRequests(s, std::move(handles));
  for (auto& s : admitted)
    s->queue().post([this, s] {
      // The newest generation, not the one current when the push was queued: a stream that
      // waited through several changes sends their sum once.
      if (auto push = current()) s->connection->push(*push);
      bool drained;
      {
        std::lock_guard lock(mu_);
        drained = --pushesRunning_ == 0 && waiting_.empty();
      }
      // A push wave frees the many response buffers it built on every worker thread's malloc
      // arena; glibc keeps that memory mapped unless asked to give it back.
      if (drained) malloc_trim(0);
      admit();
    });
}

std::shared_ptr<const PushContext> AdsServer::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::vector<ProxyStatus> AdsServer::proxies() const {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : streams_) streams.push_back(s);
  }
  std::vector<ProxyStatus> out;
  for (auto& s : streams) out.push_back(s->connection->status());
  return out;
}

std::optional<ConnectedProxy> AdsServer::connectedProxy(std::string_view idOrName) const {
  std::shared_ptr<Stream> byId, byName;
  {
    std::lock_guard lock(mu_);
    // streams_ is ordered by stream id, so the last match is the newest stream.
    for (auto& [id, s] : streams_) {
      const model::Proxy& p = s->connection->proxy();
      if (p.id == idOrName) byId = s;
      else if (p.displayName() == idOrName) byName = s;
    }
  }
  const std::shared_ptr<Stream>& s = byId ? byId : byName;
  if (!s) return std::nullopt;
  return ConnectedProxy{s->connection->proxy(), s->connection->status(), s->connection->subscriptions()};
}

size_t AdsServer::connected() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

bool AdsServer::attach(const std::shared_ptr<Stream>& stream) {
  {
    std::lock_guard lock(mu_);
    if (streams_.size() >= options_.maxStreams) return false;
    streams_.emplace(stream->id(), stream);
  }
  if (hooks_.connection) hooks_.connection(stream->connection->proxy(), true);
  return true;
}

void AdsServer::detach(uint64_t id) {
  std::shared_ptr<Stream> s;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    s = it->second;
    streams_.erase(it);
  }
  if (hooks_.connection) hooks_.connection(s->connection->proxy(), false);
}

grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>* AdsServer::StreamAggregatedResources(
    grpc::CallbackServerContext* context) {
  return new StreamReactor<DiscoveryRequest, DiscoveryResponse>(*this, false, context->peer());
}

grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>* AdsServer::DeltaAggregatedResources(
    grpc::CallbackServerContext* context) {
  return new StreamReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(*this, true, context->peer());
}

}  // namespace mesh::server
