// Upstream connections and the request/response-head exchange: see upstream.h.
#include "proxy/dataplane/upstream.h"

#include "proxy/dataplane/asio_includes.h"

#include "proxy/dataplane/socket_options.h"
#include "proxy/dataplane/tls_handshake.h"
#include "proxy/dataplane/upstream_h2.h"

namespace mesh::proxy::dataplane {

namespace {

constexpr auto kPendingPoll = std::chrono::milliseconds(2);

asio::awaitable<void> sleepFor(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

asio::awaitable<std::shared_ptr<UpstreamConnection>> connectUpstream(Worker& worker, ClusterRuntime& runtime,
                                                                const Cluster& cluster, const HostRuntime& host,
                                                                const std::string& key, SteadyTime deadline,
                                                                UpstreamExchange& out, UpstreamCodec codec,
                                                                const std::vector<std::string>* alpnOverride) {
  auto guard = ResourceGuard::tryAcquire(runtime.activeConnections, cluster.circuitBreakers.maxConnections);
  if (!guard) {
    // Envoy queues the request as pending until a connection frees up.
    auto pending = ResourceGuard::tryAcquire(runtime.pendingRequests, cluster.circuitBreakers.maxPendingRequests);
    if (!pending) {
      out.failure = UpstreamFailure::Overflow;
      co_return nullptr;
    }
    auto giveUp = std::min(deadline, std::chrono::steady_clock::now() + cluster.connectTimeout);
    while (!guard) {
      if (auto idle = worker.pool.takeIdle(key)) co_return idle;
      if (std::chrono::steady_clock::now() >= giveUp) {
        out.failure = UpstreamFailure::Overflow;
        co_return nullptr;
      }
      co_await sleepFor(kPendingPoll);
      guard = ResourceGuard::tryAcquire(runtime.activeConnections, cluster.circuitBreakers.maxConnections);
    }
  }
  auto conn = std::make_shared<UpstreamConnection>(worker.ioc.get_executor());
  conn->poolKey = key;
  conn->runtime = runtime.shared_from_this();
  conn->connectionGuard = std::move(*guard);
  Deadline timeout(worker.ioc, std::min(deadline, std::chrono::steady_clock::now() + cluster.connectTimeout),
                   [conn] {
                     boost::system::error_code ignored;
                     conn->socket.close(ignored);
                   });
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host.endpoint.address, ec);
  if (!ec) {
    co_await conn->socket.async_connect(tcp::endpoint(address, static_cast<uint16_t>(host.endpoint.port)),
                                        asio::redirect_error(asio::use_awaitable, ec));
  } else {
    // A DNS cluster's name before DnsRefresher's first answer (dns_refresher.h): resolved here.
    tcp::resolver resolver(worker.ioc);
    auto results = co_await resolver.async_resolve(host.endpoint.address, std::to_string(host.endpoint.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await asio::async_connect(conn->socket.lowestLayer(), results, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec || timeout.expired()) {
    out.failure = UpstreamFailure::ConnectFailure;
    out.detail = timeout.expired() ? "connection timeout" : "delayed connect error: " + std::to_string(ec.value());
    co_return nullptr;
  }
  conn->socket.set_option(tcp::no_delay(true), ec);
  if (cluster.tcpKeepalive) setTcpKeepalive(conn->socket.native_handle(), *cluster.tcpKeepalive);
  // The pool's limits for this connection (UpstreamPool::putIdle).
  conn->idleTimeout = cluster.poolIdleTimeout;
  if (cluster.maxConnectionDuration) conn->closeAt = std::chrono::steady_clock::now() + *cluster.maxConnectionDuration;
  if (auto tls = cluster.tlsFor(host.endpoint)) {
    UpstreamAlpn alpn{codec == UpstreamCodec::Http2  ? UpstreamAlpn::Codec::Http2
                      : codec == UpstreamCodec::Alpn ? UpstreamAlpn::Codec::Auto
                                                     : UpstreamAlpn::Codec::Http1,
                      alpnOverride};
    std::string failure = co_await connectTls(worker, conn->socket, tls, alpn, deadline);
    if (!failure.empty()) {
      out.failure = UpstreamFailure::ConnectFailure;
      out.detail = std::move(failure);
      co_return nullptr;
    }
    conn->peerPrincipal = upstreamPeerPrincipal(conn->socket, *tls);
    conn->alpn = negotiatedAlpn(conn->socket);
  }
  co_return conn;
}

asio::awaitable<bool> readResponseMore(UpstreamConnection& conn, Http1Parser& parser) {
  boost::system::error_code ec;
  size_t n = co_await conn.socket.async_read_some(conn.chunk.buffer(), asio::redirect_error(asio::use_awaitable, ec));
  if (ec || n == 0) {
    if (ec == asio::error::eof || n == 0) parser.finishOnEof();
    co_return false;
  }
  conn.buffer.append(conn.chunk.first(n));
  size_t used = parser.parse(conn.buffer);
  conn.buffer.erase(0, used);
  co_return true;
}

namespace {

// What an HTTP/1.1 exchange and its body sender share: the route timeout, which starts once
// the body is all sent (as in Envoy) and ends when the response head arrives.
struct Http1BodySend {
  explicit Http1BodySend(const asio::any_io_executor& ex) : sender(std::make_shared<BodySender>(ex)), routeTimer(ex) {}
  std::shared_ptr<BodySender> sender;
  asio::steady_timer routeTimer;
  bool headDone = false;
  bool timedOut = false;
};

// Copies the rest of a streamed request body from downstream to upstream while the exchange
// reads the response. The last chunk carries the request's trailers when the cluster enables
// them. A client that fails mid-body closes the upstream connection (nothing could follow on
// it); an upstream that stops taking the body fails only the write, so a response it sent
// before closing is still read.
asio::awaitable<void> sendBodyHttp1(std::shared_ptr<UpstreamConnection> conn, std::shared_ptr<Http1BodySend> state,
                                    DownstreamStream& source, std::string piece, bool chunked, bool trailers,
                                    std::chrono::milliseconds routeTimeout) {
  BodySender& sender = *state->sender;
  boost::system::error_code ec;
  bool complete = false;
  for (;;) {
    sender.bytesSent += piece.size();
    bool last = source.bodyDone();
    std::string framed;
    if (chunked) appendChunk(framed, piece);
    else framed = std::move(piece);
    if (last && chunked) appendLastChunk(framed, trailers ? source.requestTrailers() : nullptr);
    if (!framed.empty()) {
      co_await asio::async_write(conn->socket, asio::buffer(framed), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (last) {
      complete = true;
      break;
    }
    auto next = co_await source.bodyRead();  // the source applies its idle timeout
    if (!next) {
      boost::system::error_code ignored;
      conn->socket.close(ignored);
      break;
    }
    piece = std::move(*next);
  }
  sender.complete = complete;
  sender.failed = !complete;
  sender.done = true;
  sender.signal.notify();
  if (complete && routeTimeout.count() > 0 && !state->headDone) {
    state->routeTimer.expires_after(routeTimeout);
    co_await state->routeTimer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !state->headDone) {
      state->timedOut = true;
      boost::system::error_code ignored;
      conn->socket.close(ignored);
    }
  }
}

}  // namespace

namespace {

// An HTTP/1.1 response read from a pooled connection.
class Http1UpstreamResponse : public UpstreamResponse {
 public:
  Http1UpstreamResponse(Worker& worker, const Cluster& cluster, UpstreamExchange& ex,
                        std::shared_ptr<BodySender> sender)
      : worker_(worker), cluster_(cluster), conn_(ex.conn), parser_(*ex.parser), sender_(std::move(sender)) {}
  ResponseHead& head() override { return parser_.response(); }
  std::optional<uint64_t> contentLength() const override { return parser_.contentLength(); }
  std::string takeBody() override { return parser_.takeBody(); }
  asio::awaitable<bool> readMore() override {
    if (parser_.messageDone() || parser_.failed()) co_return false;
    bool more = co_await readResponseMore(*conn_, parser_);
    co_return more && !parser_.messageDone() && !parser_.failed();
  }
  bool complete() const override { return parser_.messageDone() && !parser_.failed(); }
  // Envoy's HTTP/1 codec drops trailers unless the cluster's enable_trailers is set.
  const HeaderMap* trailers() const override {
    return cluster_.http1Trailers && parser_.trailers().size() > 0 ? &parser_.trailers() : nullptr;
  }
  void abandon() override {
    boost::system::error_code ignored;
    conn_->socket.close(ignored);
  }
  void finish() override {
    // Answered before the request body was all sent: the connection has no request boundary
    // left (Envoy does not reuse it either), and closing it ends a sender blocked on it.
    if (sender_ && !sender_->complete) return abandon();
    releaseConnection(worker_, conn_, cluster_, parser_);
  }

 private:
  Worker& worker_;
  const Cluster& cluster_;
  std::shared_ptr<UpstreamConnection> conn_;
  Http1Parser& parser_;  // owned by the exchange, which outlives this response
  std::shared_ptr<BodySender> sender_;  // a streamed body still being sent, or null
};

asio::awaitable<UpstreamExchange> exchangeHeadHttp1(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                                    const HostRuntime& host, std::string_view wire,
                                                    bool headRequest, SteadyTime deadline, BodyPump* pump,
                                                    bool allowUpgrade, const std::vector<std::string>* alpnOverride,
                                                    StreamIdle* idle, UpstreamCodec connectCodec) {
  std::string key = cluster.name + "|" + host.key + tlsPoolKeySuffix(cluster, host.endpoint, alpnOverride);
  // A pooled connection the server closed meanwhile fails before any response byte; that
  // try is repeated once on a new connection without counting as a retry.
  for (int round = 0; round < 2; ++round) {
    UpstreamExchange out;
    auto conn = round == 0 ? worker.pool.takeIdle(key) : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      conn = co_await connectUpstream(worker, runtime, cluster, host, key, deadline, out, connectCodec, alpnOverride);
      if (!conn) co_return out;
      if (conn->alpn == "h2" && connectCodec == UpstreamCodec::Alpn) {
        // auto_config: the server now chose h2; the connection serves the next requests as such.
        (void)adoptHttp2Connection(worker, cluster, host, std::move(conn), alpnOverride);
        out.failure = UpstreamFailure::Reset;
        out.detail = "connection termination";
        co_return out;
      }
    }
    ++conn->requests;
    if (idle != nullptr) {  // the stream idle timeout ends the wait as the route timeout does
      idle->interrupt = [weak = std::weak_ptr<UpstreamConnection>(conn)] {
        boost::system::error_code ignored;
        if (auto c = weak.lock()) c->socket.close(ignored);
      };
    }
    out.parser = std::make_unique<Http1Parser>(Http1Parser::Kind::Response, ParseLimits{});
    if (headRequest) out.parser->skipBody();
    boost::system::error_code ec;
    std::shared_ptr<Http1BodySend> sending;
    if (pump != nullptr) {
      co_await asio::async_write(conn->socket, asio::buffer(wire.data(), wire.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        out.failure = UpstreamFailure::Reset;
        out.detail = "connection termination";
        co_return out;
      }
      // The body goes up from its own coroutine while the response is read: an upstream may
      // answer (413, or 200) before it has read all of it, and must be heard.
      sending = std::make_shared<Http1BodySend>(worker.ioc.get_executor());
      pump->sender = sending->sender;
      asio::co_spawn(worker.ioc,
                     sendBodyHttp1(conn, sending, pump->source, std::move(pump->prefix), pump->chunked,
                                   cluster.http1Trailers, pump->routeTimeout),
                     asio::detached);
    }
    Deadline timeout(worker.ioc, deadline,
                     [conn] {
                       boost::system::error_code ignored;
                       conn->socket.close(ignored);
                     });
    if (pump == nullptr) {
      co_await asio::async_write(conn->socket, asio::buffer(wire.data(), wire.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    bool gotBytes = false;
    while (!ec) {
      if (!conn->buffer.empty()) {
        size_t used = out.parser->parse(conn->buffer);
        conn->buffer.erase(0, used);
      }
      if (out.parser->failed()) break;
      if (out.parser->headerDone()) {
        unsigned status = out.parser->response().status;
        if (status < 100 || status >= 200 || status == 101) break;
        // 1xx informational responses (other than 101) are dropped: a new parser reads on.
        out.parser = std::make_unique<Http1Parser>(Http1Parser::Kind::Response, ParseLimits{});
        if (headRequest) out.parser->skipBody();
        continue;
      }
      size_t n = co_await conn->socket.async_read_some(conn->chunk.buffer(), asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && n == 0) ec = asio::error::eof;
      if (!ec) {
        gotBytes = true;
        conn->buffer.append(conn->chunk.first(n));
      }
    }
    if (out.parser->headerDone() && out.parser->response().status >= 100 && out.parser->response().status < 200 &&
        !(allowUpgrade && out.parser->response().status == 101)) {
      ec = asio::error::connection_reset;  // 101 to a request that did not ask to upgrade
    }
    if (sending) {
      sending->headDone = true;
      sending->routeTimer.cancel();
    }
    if (!ec && !out.parser->failed() && out.parser->headerDone()) {
      out.peerPrincipal = conn->peerPrincipal;
      out.conn = std::move(conn);
      co_return out;
    }
    if (sending) {  // a sender still writing to it would wait on a peer that answers no more
      boost::system::error_code ignored;
      conn->socket.close(ignored);
    }
    if (timeout.expired() || (idle != nullptr && idle->fired) || (sending && sending->timedOut)) {
      out.failure = UpstreamFailure::Timeout;
      co_return out;
    }
    if (reused && !gotBytes && round == 0 && pump == nullptr) continue;
    out.failure = UpstreamFailure::Reset;
    out.detail = out.parser->failed() ? "protocol error" : "connection termination";
    co_return out;
  }
  co_return UpstreamExchange{};
}

// auto_config: the codec of a live HTTP/2 connection ALPN chose earlier, else of an idle
// HTTP/1.1 one, else of a new connection by what its server chose (the connection then waits
// in its pool for this request). nullopt: the connect failed (`out` says why).
asio::awaitable<std::optional<UpstreamCodec>> chooseByAlpn(Worker& worker, ClusterRuntime& runtime,
                                                           const Cluster& cluster, const HostRuntime& host,
                                                           SteadyTime deadline,
                                                           const std::vector<std::string>* alpnOverride,
                                                           UpstreamExchange& out) {
  if (http2ConnectionAvailable(worker, cluster, host, alpnOverride)) co_return UpstreamCodec::Http2;
  std::string key = cluster.name + "|" + host.key + tlsPoolKeySuffix(cluster, host.endpoint, alpnOverride);
  if (auto idle = worker.pool.takeIdle(key)) {
    worker.pool.putIdle(std::move(idle));
    co_return UpstreamCodec::Http1;
  }
  auto conn = co_await connectUpstream(worker, runtime, cluster, host, key, deadline, out, UpstreamCodec::Alpn,
                                       alpnOverride);
  if (!conn) co_return std::nullopt;
  if (conn->alpn == "h2") {
    if (auto adopted = adoptHttp2Connection(worker, cluster, host, std::move(conn), alpnOverride); !adopted) {
      out.failure = UpstreamFailure::ConnectFailure;
      out.detail = adopted.error().message;
      co_return std::nullopt;
    }
    co_return UpstreamCodec::Http2;
  }
  worker.pool.putIdle(std::move(conn));  // taken again at once by exchangeHeadHttp1
  co_return UpstreamCodec::Http1;
}

}  // namespace

UpstreamCodec upstreamCodec(const Cluster& cluster, const Endpoint& endpoint, std::string_view downstreamProtocol,
                            bool upgrade) {
  if (upgrade) return UpstreamCodec::Http1;
  switch (cluster.protocolSelection) {
    case Cluster::ProtocolSelection::Downstream:
      return downstreamProtocol == "HTTP/2" ? UpstreamCodec::Http2 : UpstreamCodec::Http1;
    case Cluster::ProtocolSelection::Alpn:
      return cluster.tlsFor(endpoint) ? UpstreamCodec::Alpn : UpstreamCodec::Http1;
    case Cluster::ProtocolSelection::Explicit: break;
  }
  return cluster.http2 ? UpstreamCodec::Http2 : UpstreamCodec::Http1;
}

asio::awaitable<UpstreamExchange> exchangeHead(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                               const HostRuntime& host, const RequestHead& request,
                                               std::string_view body, std::optional<uint64_t> framedLength,
                                               SteadyTime deadline, BodyPump* pump, bool allowUpgrade,
                                               const std::vector<std::string>* alpnOverride, StreamIdle* idle,
                                               const HeaderMap* trailers, std::string_view downstreamProtocol) {
  UpstreamCodec codec = upstreamCodec(cluster, host.endpoint, downstreamProtocol, allowUpgrade);
  UpstreamCodec connectCodec = codec;  // what new connections offer by ALPN
  if (codec == UpstreamCodec::Alpn) {
    UpstreamExchange failed;
    auto chosen = co_await chooseByAlpn(worker, runtime, cluster, host, deadline, alpnOverride, failed);
    if (!chosen) co_return failed;
    codec = *chosen;
  }
  if (codec == UpstreamCodec::Http2) {
    co_return co_await exchangeHeadHttp2(worker, runtime, cluster, host, request, body, deadline, pump, alpnOverride,
                                         idle, trailers, connectCodec);
  }
  // A whole body with trailers goes chunked so its last chunk can carry them (only with the
  // cluster's enable_trailers, as Envoy's HTTP/1 codec; without it they are dropped).
  bool withTrailers = pump == nullptr && trailers != nullptr && trailers->size() > 0 && cluster.http1Trailers &&
                      !allowUpgrade && request.method != "HEAD";
  bool chunked = (pump != nullptr && pump->chunked) || withTrailers;
  std::string wire = serializeRequestHead(request, chunked ? std::nullopt : framedLength, chunked);
  if (withTrailers) {
    appendChunk(wire, body);
    appendLastChunk(wire, trailers);
  } else if (pump == nullptr) {
    wire.append(body);
  }
  auto ex = co_await exchangeHeadHttp1(worker, runtime, cluster, host, wire, request.method == "HEAD", deadline,
                                       pump, allowUpgrade, alpnOverride, idle, connectCodec);
  if (ex.failure == UpstreamFailure::None) {
    ex.response = std::make_unique<Http1UpstreamResponse>(worker, cluster, ex, pump != nullptr ? pump->sender : nullptr);
  }
  co_return ex;
}

void releaseConnection(Worker& worker, std::shared_ptr<UpstreamConnection> conn, const Cluster& cluster,
                       const Http1Parser& parser) {
  if (!conn || !conn->socket.is_open()) return;
  bool reusable = parser.messageDone() && !parser.failed() && parser.keepAlive() && !parser.needEof() &&
                  conn->buffer.empty() &&
                  (cluster.maxRequestsPerConnection == 0 || conn->requests < cluster.maxRequestsPerConnection);
  if (reusable) worker.pool.putIdle(std::move(conn));
}

}  // namespace mesh::proxy::dataplane
