// Upstream connections and the request/response-head exchange: see upstream.h.
#include "proxy/dataplane/upstream.h"

#include "proxy/dataplane/asio_includes.h"

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
                                                                UpstreamExchange& out, bool http2,
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
  if (auto tls = cluster.tlsFor(host.endpoint)) {
    UpstreamAlpn alpn{http2 ? UpstreamAlpn::Codec::Http2 : UpstreamAlpn::Codec::Http1, alpnOverride};
    std::string failure = co_await connectTls(worker, conn->socket, tls, alpn, deadline);
    if (!failure.empty()) {
      out.failure = UpstreamFailure::ConnectFailure;
      out.detail = std::move(failure);
      co_return nullptr;
    }
    conn->peerPrincipal = upstreamPeerPrincipal(conn->socket, *tls);
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

// Copies the rest of a streamed request body from downstream to upstream.
asio::awaitable<bool> pumpBody(Worker& worker, UpstreamConnection& conn, BodyPump& pump) {
  (void)worker;
  boost::system::error_code ec;
  std::string piece = std::move(pump.prefix);
  for (;;) {
    pump.bodyBytesSent += piece.size();
    std::string framed;
    if (pump.chunked) appendChunk(framed, piece);
    else framed = std::move(piece);
    if (!framed.empty()) {
      co_await asio::async_write(conn.socket, asio::buffer(framed), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
    }
    if (pump.source.bodyDone()) break;
    auto next = co_await pump.source.bodyRead();  // the source applies its idle timeout
    if (!next) co_return false;
    piece = std::move(*next);
  }
  if (pump.chunked) {
    co_await asio::async_write(conn.socket, asio::buffer(kLastChunk.data(), kLastChunk.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return !ec;
}

}  // namespace

namespace {

// An HTTP/1.1 response read from a pooled connection.
class Http1UpstreamResponse : public UpstreamResponse {
 public:
  Http1UpstreamResponse(Worker& worker, const Cluster& cluster, UpstreamExchange& ex)
      : worker_(worker), cluster_(cluster), conn_(ex.conn), parser_(*ex.parser) {}
  ResponseHead& head() override { return parser_.response(); }
  std::optional<uint64_t> contentLength() const override { return parser_.contentLength(); }
  std::string takeBody() override { return parser_.takeBody(); }
  asio::awaitable<bool> readMore() override {
    if (parser_.messageDone() || parser_.failed()) co_return false;
    bool more = co_await readResponseMore(*conn_, parser_);
    co_return more && !parser_.messageDone() && !parser_.failed();
  }
  bool complete() const override { return parser_.messageDone() && !parser_.failed(); }
  const HeaderMap* trailers() const override { return nullptr; }
  void abandon() override {
    boost::system::error_code ignored;
    conn_->socket.close(ignored);
  }
  void finish() override { releaseConnection(worker_, conn_, cluster_, parser_); }

 private:
  Worker& worker_;
  const Cluster& cluster_;
  std::shared_ptr<UpstreamConnection> conn_;
  Http1Parser& parser_;  // owned by the exchange, which outlives this response
};

asio::awaitable<UpstreamExchange> exchangeHeadHttp1(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                                    const HostRuntime& host, std::string_view wire,
                                                    bool headRequest, SteadyTime deadline, BodyPump* pump,
                                                    bool allowUpgrade, const std::vector<std::string>* alpnOverride) {
  std::string key = cluster.name + "|" + host.key + tlsPoolKeySuffix(cluster, host.endpoint, alpnOverride);
  // A pooled connection the server closed meanwhile fails before any response byte; that
  // try is repeated once on a new connection without counting as a retry.
  for (int round = 0; round < 2; ++round) {
    UpstreamExchange out;
    auto conn = round == 0 ? worker.pool.takeIdle(key) : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      conn = co_await connectUpstream(worker, runtime, cluster, host, key, deadline, out, false, alpnOverride);
      if (!conn) co_return out;
    }
    ++conn->requests;
    out.parser = std::make_unique<Http1Parser>(Http1Parser::Kind::Response, ParseLimits{});
    if (headRequest) out.parser->skipBody();
    boost::system::error_code ec;
    if (pump != nullptr) {
      co_await asio::async_write(conn->socket, asio::buffer(wire.data(), wire.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !co_await pumpBody(worker, *conn, *pump)) {
        out.failure = UpstreamFailure::Reset;
        out.detail = "connection termination";
        co_return out;
      }
      deadline = pump->routeTimeout.count() > 0 ? std::chrono::steady_clock::now() + pump->routeTimeout
                                                : SteadyTime::max();
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
    if (!ec && !out.parser->failed() && out.parser->headerDone()) {
      out.peerPrincipal = conn->peerPrincipal;
      out.conn = std::move(conn);
      co_return out;
    }
    if (timeout.expired()) {
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

}  // namespace

asio::awaitable<UpstreamExchange> exchangeHead(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                               const HostRuntime& host, const RequestHead& request,
                                               std::string_view body, std::optional<uint64_t> framedLength,
                                               SteadyTime deadline, BodyPump* pump, bool allowUpgrade,
                                               const std::vector<std::string>* alpnOverride) {
  if (cluster.http2 && !allowUpgrade) {
    co_return co_await exchangeHeadHttp2(worker, runtime, cluster, host, request, body, deadline, pump, alpnOverride);
  }
  std::string wire = serializeRequestHead(request, framedLength, pump != nullptr && pump->chunked);
  if (pump == nullptr) wire.append(body);
  auto ex = co_await exchangeHeadHttp1(worker, runtime, cluster, host, wire, request.method == "HEAD", deadline,
                                       pump, allowUpgrade, alpnOverride);
  if (ex.failure == UpstreamFailure::None) ex.response = std::make_unique<Http1UpstreamResponse>(worker, cluster, ex);
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
