// HTTP/2 upstream connections and streams: see upstream_h2.h. A stream's response body is
// acknowledged to the server (WINDOW_UPDATE) only as the router takes it, so a slow client
// slows the server instead of filling this proxy's memory.
#include "proxy/dataplane/upstream_h2.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "proxy/dataplane/h2_wait.h"
#include "proxy/dataplane/http2_codec.h"
#include "proxy/dataplane/tls_handshake.h"

namespace mesh::proxy::dataplane {

namespace {

constexpr size_t kSendHighWater = 256 * 1024;  // queued request body bytes before the pump waits
constexpr auto kConnectPoll = std::chrono::milliseconds(1);

struct H2StreamState {
  explicit H2StreamState(const asio::any_io_executor& ex) : signal(ex) {}
  int32_t id = 0;
  ResponseHead head;
  bool headDone = false;
  std::string body;
  std::optional<HeaderMap> trailers;
  bool ended = false;  // END_STREAM from the server
  bool reset = false;  // reset, or the connection failed
  std::string resetReason;
  StreamSignal signal;
};

const std::string kNoPrincipal;

class H2Upstream : public Http2Codec::Events, public std::enable_shared_from_this<H2Upstream> {
 public:
  H2Upstream(Worker& worker, const Cluster& cluster) : worker_(worker), maxRequests_(cluster.maxRequestsPerConnection) {
    limits_.http2 = cluster.http2 ? *cluster.http2 : cluster.selectableHttp2;
  }

  Result<void> start(std::shared_ptr<UpstreamConnection> conn) {
    auto codec = Http2Codec::create(Http2Codec::Role::Client, limits_, *this);
    if (!codec) return Failure(codec.error());
    codec_ = std::move(*codec);
    conn_ = std::move(conn);
    asio::co_spawn(worker_.ioc, readLoop(shared_from_this()), asio::detached);
    flush();
    return {};
  }

  bool ready() const { return codec_ != nullptr && !dead_; }
  bool dead() const { return dead_; }
  bool hasRoom() const {
    if (dead_ || (codec_ && codec_->goawayReceived())) return false;
    if (maxRequests_ != 0 && started_ >= maxRequests_) return false;
    uint32_t limit = limits_.http2.maxConcurrentStreams;
    if (codec_) limit = std::min(limit, codec_->peerMaxConcurrentStreams());
    return streams_.size() + opening_ < limit;
  }
  bool idle() const { return streams_.empty() && opening_ == 0; }
  void reserve() { ++opening_; }
  void unreserve() { --opening_; }

  Result<std::shared_ptr<H2StreamState>> open(const HeaderMap& head, bool endStream) {
    auto id = codec_->submitRequest(head, endStream);
    if (!id) return Failure(id.error());
    auto st = std::make_shared<H2StreamState>(worker_.ioc.get_executor());
    st->id = *id;
    streams_[*id] = st;
    ++started_;
    return st;
  }

  Http2Codec& codec() { return *codec_; }
  const std::string& peerPrincipal() const { return conn_ ? conn_->peerPrincipal : kNoPrincipal; }

  void flush() {
    if (writing_ || dead_ || !codec_) return;
    writing_ = true;
    asio::co_spawn(worker_.ioc, writeLoop(shared_from_this()), asio::detached);
  }

  void fail(std::string_view reason) {
    if (dead_) return;
    dead_ = true;
    if (conn_) {
      boost::system::error_code ignored;
      conn_->socket.close(ignored);
    }
    for (auto& [id, st] : streams_) {
      if (!st->ended) {
        st->reset = true;
        st->resetReason = std::string(reason);
      }
      st->signal.notify();
    }
    streams_.clear();
  }

  // Http2Codec::Events
  void onHeaders(int32_t stream, HeaderMap headers, bool endStream) override {
    auto st = find(stream);
    if (!st) return;
    if (!st->headDone) {
      unsigned status = 0;
      auto s = headers.get(":status");
      if (s) std::from_chars(s->data(), s->data() + s->size(), status);
      if (status >= 100 && status < 200 && !endStream) return;  // informational: the final head follows
      st->head.status = status;
      st->head.reason = std::string(reasonPhrase(status));
      for (auto& [name, value] : headers.entries()) {
        if (!isPseudoHeader(name)) st->head.headers.add(std::move(name), std::move(value));
      }
      st->headDone = true;
    } else {
      HeaderMap trailers;
      for (auto& [name, value] : headers.entries()) {
        if (!isPseudoHeader(name)) trailers.add(std::move(name), std::move(value));
      }
      st->trailers = std::move(trailers);
    }
    if (endStream) st->ended = true;
    st->signal.notify();
  }
  void onData(int32_t stream, std::string_view data) override {
    auto st = find(stream);
    if (!st) {
      codec_->consume(stream, data.size());  // nobody reads it: keep the connection window open
      return;
    }
    st->body.append(data);
    st->signal.notify();
  }
  void onEndStream(int32_t stream) override {
    if (auto st = find(stream)) {
      st->ended = true;
      st->signal.notify();
    }
  }
  void onStreamClose(int32_t stream, uint32_t errorCode) override {
    auto st = find(stream);
    if (!st) return;
    if (!st->ended) {
      st->reset = true;
      st->resetReason = errorCode == kH2RefusedStream ? "remote refused stream reset" : "remote reset";
    }
    st->signal.notify();
    streams_.erase(stream);
  }
  void onSendProgress(int32_t stream) override {
    if (auto st = find(stream)) st->signal.notify();
  }

 private:
  std::shared_ptr<H2StreamState> find(int32_t stream) {
    auto it = streams_.find(stream);
    return it == streams_.end() ? nullptr : it->second;
  }

  static asio::awaitable<void> readLoop(std::shared_ptr<H2Upstream> self) {
    char buf[32 * 1024];
    for (;;) {
      boost::system::error_code ec;
      size_t n = co_await self->conn_->socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec || n == 0) break;
      bool ok = self->codec_->receive(std::string_view(buf, n));
      self->flush();
      if (!ok || !self->codec_->alive()) break;
    }
    self->fail("connection termination");
  }

  static asio::awaitable<void> writeLoop(std::shared_ptr<H2Upstream> self) {
    for (;;) {
      std::string out = self->codec_->takeOutput();
      if (out.empty() || self->dead_) break;
      boost::system::error_code ec;
      co_await asio::async_write(self->conn_->socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        self->writing_ = false;
        self->fail("connection termination");
        co_return;
      }
    }
    self->writing_ = false;
  }

  Worker& worker_;
  Http2Codec::Limits limits_;
  uint32_t maxRequests_;
  std::shared_ptr<UpstreamConnection> conn_;  // socket and the cluster's connection guard
  std::unique_ptr<Http2Codec> codec_;
  std::unordered_map<int32_t, std::shared_ptr<H2StreamState>> streams_;
  uint32_t started_ = 0;
  uint32_t opening_ = 0;  // requests that chose this connection while it connects
  bool writing_ = false;
  bool dead_ = false;
};

class H2UpstreamResponse : public UpstreamResponse {
 public:
  H2UpstreamResponse(std::shared_ptr<H2Upstream> conn, std::shared_ptr<H2StreamState> st)
      : conn_(std::move(conn)), st_(std::move(st)) {}
  ~H2UpstreamResponse() override {
    if (!st_->ended) abandon();  // the router left early: the server may stop sending
    if (!st_->body.empty() && !conn_->dead()) conn_->codec().consume(st_->id, st_->body.size());
  }
  ResponseHead& head() override { return st_->head; }
  std::optional<uint64_t> contentLength() const override {
    auto v = st_->head.headers.get("content-length");
    uint64_t n = 0;
    if (!v || std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc()) return std::nullopt;
    return n;
  }
  std::string takeBody() override {
    std::string out = std::move(st_->body);
    st_->body.clear();
    if (!out.empty() && !conn_->dead()) {
      conn_->codec().consume(st_->id, out.size());
      conn_->flush();
    }
    return out;
  }
  asio::awaitable<bool> readMore() override {
    for (;;) {
      if (st_->ended || st_->reset) co_return false;
      if (!st_->body.empty()) co_return true;
      co_await st_->signal.wait();
    }
  }
  bool complete() const override { return st_->ended && !st_->reset; }
  const HeaderMap* trailers() const override { return st_->trailers ? &*st_->trailers : nullptr; }
  void abandon() override {
    if (st_->reset || st_->ended) return;
    st_->reset = true;
    st_->resetReason = "local reset";
    if (!conn_->dead()) {
      conn_->codec().resetStream(st_->id, kH2Cancel);
      conn_->flush();
    }
    st_->signal.notify();
  }
  void finish() override {}

 private:
  std::shared_ptr<H2Upstream> conn_;
  std::shared_ptr<H2StreamState> st_;
};

}  // namespace

class Http2UpstreamPool {
 public:
  std::unordered_map<std::string, std::vector<std::shared_ptr<H2Upstream>>> byKey;
};

namespace {

std::string http2Key(const Cluster& cluster, const HostRuntime& host, const std::vector<std::string>* alpnOverride) {
  return cluster.name + "|" + host.key + tlsPoolKeySuffix(cluster, host.endpoint, alpnOverride) + "|h2";
}

// A connection with room for one more stream: a live one, one that is connecting, or a new one.
asio::awaitable<std::shared_ptr<H2Upstream>> acquire(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                                     const HostRuntime& host, SteadyTime deadline,
                                                     UpstreamExchange& out, const std::vector<std::string>* alpnOverride,
                                                     UpstreamCodec codec) {
  if (!worker.http2Pool) worker.http2Pool = std::make_shared<Http2UpstreamPool>();
  std::string key = http2Key(cluster, host, alpnOverride);
  auto& list = worker.http2Pool->byKey[key];
  std::erase_if(list, [](const auto& c) { return c->dead() || (!c->hasRoom() && c->idle()); });
  for (const auto& c : list) {
    if (!c->hasRoom()) continue;
    auto chosen = c;
    chosen->reserve();
    while (!chosen->ready() && !chosen->dead() && std::chrono::steady_clock::now() < deadline) {
      asio::steady_timer t(worker.ioc, kConnectPoll);
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    chosen->unreserve();
    if (chosen->ready()) co_return chosen;
    break;  // its connect failed or timed out: try one of our own
  }
  auto fresh = std::make_shared<H2Upstream>(worker, cluster);
  worker.http2Pool->byKey[key].push_back(fresh);
  fresh->reserve();
  auto conn = co_await connectUpstream(worker, runtime, cluster, host, key, deadline, out, codec, alpnOverride);
  fresh->unreserve();
  if (!conn) {
    fresh->fail("connect failure");
    co_return nullptr;
  }
  if (codec == UpstreamCodec::Alpn && conn->alpn != "h2") {
    // auto_config: the server now chose HTTP/1.1; the connection serves the next HTTP/1.1 request.
    fresh->fail("connection termination");
    conn->poolKey = cluster.name + "|" + host.key + tlsPoolKeySuffix(cluster, host.endpoint, alpnOverride);
    worker.pool.putIdle(std::move(conn));
    out.failure = UpstreamFailure::Reset;
    out.detail = "connection termination";
    co_return nullptr;
  }
  if (auto started = fresh->start(std::move(conn)); !started) {
    out.failure = UpstreamFailure::ConnectFailure;
    out.detail = started.error().message;
    fresh->fail("codec failure");
    co_return nullptr;
  }
  co_return fresh;
}

HeaderMap requestHeaders(const RequestHead& request) {
  HeaderMap h;
  h.add(":method", request.method);
  h.add(":scheme", request.scheme.empty() ? "http" : request.scheme);
  h.add(":authority", request.authority);
  h.add(":path", request.path);
  for (const auto& [name, value] : request.headers.entries()) {
    if (isPseudoHeader(name) || name == "host") continue;
    h.add(name, value);
  }
  // gRPC servers require "te: trailers", which hop-by-hop filtering removed.
  if (isGrpcRequest(request.headers)) h.add("te", "trailers");
  return h;
}

}  // namespace

// Sends a streamed request body on `st` as it arrives from `source`, within the stream's send
// window; ends the upstream stream with the body, or resets it when the client goes away.
asio::awaitable<void> sendBodyConcurrently(std::shared_ptr<H2Upstream> conn, std::shared_ptr<H2StreamState> st,
                                           DownstreamStream& source, std::string piece,
                                           std::shared_ptr<BodySender> sender) {
  for (;;) {
    if (st->reset || conn->dead()) break;
    sender->bytesSent += piece.size();
    bool last = source.bodyDone();
    const HeaderMap* trailers = last ? source.requestTrailers() : nullptr;
    if (trailers != nullptr && trailers->size() > 0) {
      if (!piece.empty()) conn->codec().sendData(st->id, piece, false);
      conn->codec().sendTrailers(st->id, *trailers);
    } else if (!piece.empty() || last) {
      conn->codec().sendData(st->id, piece, last);
    }
    conn->flush();
    if (last) {
      sender->complete = true;
      break;
    }
    while (conn->codec().pendingBytes(st->id) > kSendHighWater && !st->reset && !conn->dead()) {
      co_await st->signal.wait();
    }
    if (st->reset || conn->dead()) break;
    std::optional<std::string> next = co_await source.bodyRead();
    if (!next) {
      sender->failed = true;
      if (!st->ended && !st->reset && !conn->dead()) {
        conn->codec().resetStream(st->id, kH2Cancel);
        conn->flush();
      }
      if (!st->ended) {
        st->reset = true;
        st->resetReason = "downstream reset";
      }
      break;
    }
    piece = std::move(*next);
  }
  sender->done = true;
  sender->signal.notify();
  st->signal.notify();
}

asio::awaitable<UpstreamExchange> exchangeHeadHttp2(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                                    const HostRuntime& host, const RequestHead& request,
                                                    std::string_view body, SteadyTime deadline, BodyPump* pump,
                                                    const std::vector<std::string>* alpnOverride, StreamIdle* idle,
                                                    const HeaderMap* trailers, UpstreamCodec connectCodec) {
  UpstreamExchange out;
  auto conn = co_await acquire(worker, runtime, cluster, host, deadline, out, alpnOverride, connectCodec);
  if (!conn) {
    if (out.failure == UpstreamFailure::None) out.failure = UpstreamFailure::ConnectFailure;
    co_return out;
  }
  bool hasTrailers = pump == nullptr && trailers != nullptr && trailers->size() > 0;
  bool endStream = pump == nullptr && body.empty() && !hasTrailers;
  auto opened = conn->open(requestHeaders(request), endStream);
  if (!opened) {
    out.failure = UpstreamFailure::Reset;
    out.detail = "connection termination";
    co_return out;
  }
  auto st = *opened;
  auto response = std::make_unique<H2UpstreamResponse>(conn, st);
  Deadline timeout(worker.ioc, deadline,
                   [resp = response.get()] { resp->abandon(); });
  // The caller drops the interrupt as soon as this returns (the response may be gone then).
  if (idle != nullptr) idle->interrupt = [resp = response.get()] { resp->abandon(); };
  if (pump == nullptr) {
    if (hasTrailers) {  // DATA without END_STREAM, then the trailers HEADERS frame ends the stream
      if (!body.empty()) conn->codec().sendData(st->id, body, false);
      conn->codec().sendTrailers(st->id, *trailers);
    } else if (!endStream) {
      conn->codec().sendData(st->id, body, true);
    }
    conn->flush();
  } else {
    // The body goes up from its own coroutine while the response head (and later its body) is
    // read, so a stream that waits for a reply before sending more (gRPC bidi) keeps moving.
    pump->sender = std::make_shared<BodySender>(worker.ioc.get_executor());
    asio::co_spawn(worker.ioc, sendBodyConcurrently(conn, st, pump->source, std::move(pump->prefix), pump->sender),
                   asio::detached);
  }
  // The route timeout starts once the body is all sent, as in Envoy.
  std::optional<Deadline> afterBody;
  while (!st->headDone && !st->reset) {
    if (pump != nullptr && pump->sender->done && !afterBody && pump->routeTimeout.count() > 0) {
      afterBody.emplace(worker.ioc, std::chrono::steady_clock::now() + pump->routeTimeout,
                        [resp = response.get()] { resp->abandon(); });
    }
    co_await st->signal.wait();
  }
  bool timedOut = timeout.expired() || (afterBody && afterBody->expired()) || (idle != nullptr && idle->fired);
  if (!st->headDone) {
    out.failure = timedOut ? UpstreamFailure::Timeout : UpstreamFailure::Reset;
    out.detail = st->resetReason;
    co_return out;
  }
  out.peerPrincipal = conn->peerPrincipal();
  out.response = std::move(response);
  co_return out;
}

bool http2ConnectionAvailable(Worker& worker, const Cluster& cluster, const HostRuntime& host,
                              const std::vector<std::string>* alpnOverride) {
  if (!worker.http2Pool) return false;
  auto it = worker.http2Pool->byKey.find(http2Key(cluster, host, alpnOverride));
  if (it == worker.http2Pool->byKey.end()) return false;
  return std::ranges::any_of(it->second, [](const auto& c) { return c->ready() && c->hasRoom(); });
}

Result<void> adoptHttp2Connection(Worker& worker, const Cluster& cluster, const HostRuntime& host,
                                  std::shared_ptr<UpstreamConnection> conn,
                                  const std::vector<std::string>* alpnOverride) {
  if (!worker.http2Pool) worker.http2Pool = std::make_shared<Http2UpstreamPool>();
  auto adopted = std::make_shared<H2Upstream>(worker, cluster);
  if (auto started = adopted->start(std::move(conn)); !started) {
    adopted->fail("codec failure");
    return Failure(started.error());
  }
  worker.http2Pool->byKey[http2Key(cluster, host, alpnOverride)].push_back(std::move(adopted));
  return {};
}

void closeHttp2Upstreams(Worker& worker) {
  if (!worker.http2Pool) return;
  for (auto& [key, list] : worker.http2Pool->byKey) {
    for (auto& c : list) c->fail("connection termination");
  }
  worker.http2Pool->byKey.clear();
}

}  // namespace mesh::proxy::dataplane
