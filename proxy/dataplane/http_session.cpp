// The downstream HTTP/1.1 connection: reads requests one after another (keep-alive and
// pipelining: unparsed bytes wait in the buffer), refuses malformed ones with 400/413/431/501
// and closes, answers Expect: 100-continue, then hands each request to the router.
#include "proxy/dataplane/asio_includes.h"

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/http1_codec.h"
#include "proxy/dataplane/http1_stream.h"

namespace mesh::proxy::dataplane {

namespace {

// Reads more bytes into ds.buffer; false on EOF, error or timeout.
asio::awaitable<bool> readMore(Downstream& ds) {
  boost::system::error_code ec;
  size_t n = co_await ds.socket.async_read_some(ds.chunk.buffer(), asio::redirect_error(asio::use_awaitable, ec));
  if (ec || n == 0) co_return false;
  ds.buffer.append(ds.chunk.first(n));
  co_return true;
}

// Half-closes, then reads (and drops) what the client still sends for a moment, so the
// kernel does not answer unread bytes with a reset that destroys the reply in flight.
asio::awaitable<void> lingerClose(Worker& worker, Downstream& ds) {
  boost::system::error_code ec;
  ds.socket.shutdown(tcp::socket::shutdown_send, ec);
  Deadline linger(worker.ioc, std::chrono::steady_clock::now() + std::chrono::seconds(1), [&ds] {
    boost::system::error_code ignored;
    ds.socket.cancel(ignored);
  });
  char sink[4096];
  size_t total = 0;
  while (total < 256 * 1024) {
    size_t n = co_await ds.socket.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    total += n;
  }
}

asio::awaitable<void> rejectAndClose(Worker& worker, Engine& engine, Downstream& ds, const HttpConnectionManagerConfig& hcm,
                                     const ParseError& error) {
  engine.localReplies.fetch_add(1, std::memory_order_relaxed);
  std::string reply = localReply(error.status, reasonPhrase(error.status), &hcm, true);
  boost::system::error_code ec;
  co_await asio::async_write(ds.socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
  co_await lingerClose(worker, ds);
}

}  // namespace

asio::awaitable<void> serveHttp(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                                std::shared_ptr<const FilterChain> chain) {
  const auto& hcm = std::get<HttpConnectionManagerConfig>(chain->filter);
  ParseLimits limits;
  limits.maxHeaderBytes = hcm.maxRequestHeadersKb * 1024;
  limits.maxHeaders = hcm.maxHeadersCount;
  // Bodies up to this size are buffered (retries and mirrors replay them); larger ones stream.
  const uint64_t bufferLimit = engine.options.maxRequestBodyBytes;
  limits.rejectUnderscoreHeaders = hcm.rejectHeadersWithUnderscores;
  limits.dropUnderscoreHeaders = hcm.dropHeadersWithUnderscores;
  auto closeSocket = [weak = std::weak_ptr<Downstream>(ds)] {
    if (auto d = weak.lock()) {
      boost::system::error_code ignored;
      d->socket.close(ignored);
    }
  };
  // Bounds each wait for a request's head and buffered body; while the router serves a request
  // it times that stream's idleness instead (stream_idle_timeout: ds->streamIdle).
  IdleDeadline idle(worker.ioc, [weak = std::weak_ptr<Downstream>(ds), closeSocket] {
    auto d = weak.lock();
    if (d && d->streamIdle != nullptr) d->streamIdle->fire();
    else closeSocket();
  });
  struct TimerLink {
    Downstream& ds;
    ~TimerLink() { ds.idleTimer = nullptr; }
  } link{*ds};
  ds->idleTimer = &idle;
  const auto idleWait = hcm.idleTimeout.count() > 0 ? std::chrono::steady_clock::duration(hcm.idleTimeout)
                                                    : std::chrono::hours(24);
  for (;;) {
    Http1Parser parser(Http1Parser::Kind::Request, limits);
    idle.arm(idleWait);
    for (;;) {
      size_t used = parser.parse(ds->buffer);
      ds->buffer.erase(0, used);
      if (parser.headerDone() || parser.failed()) break;
      if (!co_await readMore(*ds)) co_return;
    }
    idle.disarm();
    if (parser.failed()) {
      co_await rejectAndClose(worker, engine, *ds, hcm, parser.error());
      co_return;
    }
    if (parser.expectContinue() && !parser.messageDone()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      boost::system::error_code ec;
      co_await asio::async_write(ds->socket, asio::buffer(kContinue), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    auto declared = parser.contentLength();
    bool streaming = declared && *declared > bufferLimit;
    if (!streaming && !parser.messageDone()) {
      idle.arm(idleWait);
      while (!parser.messageDone() && !parser.failed()) {
        size_t used = parser.parse(ds->buffer);
        ds->buffer.erase(0, used);
        if (parser.messageDone() || parser.failed()) break;
        if (parser.pendingBodyBytes() > bufferLimit) {
          streaming = true;
          break;
        }
        if (!co_await readMore(*ds)) co_return;
      }
      idle.disarm();
    }
    if (parser.failed()) {
      co_await rejectAndClose(worker, engine, *ds, hcm, parser.error());
      co_return;
    }
    engine.requests.fetch_add(1, std::memory_order_relaxed);
    bool clientClose = !parser.keepAlive();
    // An h2c upgrade is declined by serving the request over HTTP/1.1 without it, as Envoy
    // does; h2c is served with prior knowledge (http2_session.cpp).
    if (auto up = parser.request().headers.get("upgrade"); up && (*up == "h2c" || *up == "H2C")) {
      parser.request().headers.remove("upgrade");
      parser.request().headers.remove("http2-settings");
    }
    std::string body = parser.takeBody();
    Http1Stream stream(engine, worker, *ds, hcm, parser.request().versionMinor, clientClose,
                       streaming ? &parser : nullptr);
    stream.setRequestParser(parser);
    bool keep = co_await routeRequest(engine, worker, stream, hcm, std::move(parser.request()), std::move(body));
    // A streamed body that was not read to its end leaves no boundary for a next request.
    if (!keep || engine.draining.load() || (streaming && !parser.messageDone())) {
      co_await lingerClose(worker, *ds);
      co_return;
    }
  }
}

}  // namespace mesh::proxy::dataplane
