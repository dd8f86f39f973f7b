// Tunnels over an HTTP request: see connect_tunnel.h. HTTP/1.1 hands the whole connection to
// tcp_proxy's relay; HTTP/2 copies between one stream and the upstream socket with two
// coroutines, one per direction, and the stream's flow control bounding what is buffered.
#include "proxy/dataplane/connect_tunnel.h"

#include "proxy/dataplane/http1_codec.h"
#include "proxy/dataplane/http_stream.h"

namespace mesh::proxy::dataplane {

namespace {

struct StreamTunnel {
  StreamTunnel(Worker& worker, std::shared_ptr<UpstreamConnection> c)
      : conn(std::move(c)), finished(worker.ioc), idle(worker.ioc, [this] { expire(); }) {
    finished.expires_at(std::chrono::steady_clock::time_point::max());
  }
  std::shared_ptr<UpstreamConnection> conn;
  DownstreamStream* stream = nullptr;
  asio::steady_timer finished;  // cancelled when the upstream-to-client direction is done
  IdleDeadline idle;
  std::chrono::milliseconds idleTimeout{0};
  bool upstreamDone = false;
  RelayBytes bytes;

  void touch() {
    if (idleTimeout.count() > 0) idle.arm(idleTimeout);
  }
  void closeUpstream() {
    boost::system::error_code ignored;
    conn->socket.close(ignored);
  }
  // Nothing moved for the idle timeout: both directions end (the stream is then reset).
  void expire() {
    closeUpstream();
    if (stream != nullptr) stream->stopBody();
  }
};

// Upstream to client: DATA frames, END_STREAM once the upstream half-closes. A reset upstream
// leaves the response unfinished, so the stream is reset.
asio::awaitable<void> upstreamToStream(std::shared_ptr<StreamTunnel> t) {
  boost::system::error_code ec;
  bool clientGone = false;
  for (;;) {
    size_t n = co_await t->conn->socket.async_read_some(t->conn->chunk.buffer(),
                                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) break;
    t->touch();
    if (!co_await t->stream->sendBody(t->conn->chunk.first(n))) {
      clientGone = true;
      break;
    }
    t->bytes.toDownstream += n;
  }
  if (clientGone || (ec && ec != asio::error::eof)) {
    t->closeUpstream();
    t->stream->stopBody();
  } else {
    co_await t->stream->sendEnd(nullptr);
  }
  t->upstreamDone = true;
  t->finished.cancel();
}

asio::awaitable<RelayBytes> relayStream(Worker& worker, DownstreamStream& stream, std::shared_ptr<UpstreamConnection> conn,
                                        ResponseHead head, std::string toDownstream, std::chrono::milliseconds idle) {
  auto t = std::make_shared<StreamTunnel>(worker, std::move(conn));
  t->stream = &stream;
  t->idleTimeout = idle;
  if (!co_await stream.sendHead(std::move(head), std::nullopt, false) ||
      (!toDownstream.empty() && !co_await stream.sendBody(toDownstream))) {
    t->closeUpstream();
    co_return t->bytes;
  }
  t->bytes.toDownstream += toDownstream.size();
  t->touch();
  asio::co_spawn(worker.ioc, upstreamToStream(t), asio::detached);
  // Client to upstream: DATA as it comes (acknowledged as it is taken), END_STREAM half-closes.
  boost::system::error_code ec;
  for (;;) {
    auto piece = co_await stream.bodyRead();
    if (!piece) {  // reset by the client, or the tunnel ended
      t->closeUpstream();
      break;
    }
    if (piece->empty()) {
      if (!stream.bodyDone()) continue;
      t->conn->socket.shutdown(tcp::socket::shutdown_send, ec);
      break;
    }
    t->touch();
    co_await asio::async_write(t->conn->socket, asio::buffer(*piece), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      t->closeUpstream();
      stream.stopBody();
      break;
    }
    t->bytes.fromDownstream += piece->size();
  }
  // The other direction reads from `stream`, which must outlive it.
  if (!t->upstreamDone) co_await t->finished.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  t->idle.disarm();
  t->stream = nullptr;
  co_return t->bytes;
}

}  // namespace

asio::awaitable<RelayBytes> relayTunnel(Worker& worker, DownstreamStream& stream,
                                        std::shared_ptr<UpstreamConnection> conn, ResponseHead head,
                                        std::string toDownstream, std::chrono::milliseconds idle) {
  if (stream.protocol() == "HTTP/2") {
    co_return co_await relayStream(worker, stream, std::move(conn), std::move(head), std::move(toDownstream), idle);
  }
  Downstream& ds = stream.connection();
  std::string first = serializeResponseHead(head, std::nullopt, false, false);
  RelayBytes headBytes;
  headBytes.toDownstream = first.size();
  first += toDownstream;
  std::string toUpstream = std::move(ds.buffer);  // sent by the client after its request head
  ds.buffer.clear();
  Transport upstream = std::move(conn->socket);
  RelayBytes bytes = co_await relayBothWays(worker, ds.shared_from_this(), std::move(upstream), std::move(toUpstream),
                                            std::move(first), idle, conn);
  bytes.toDownstream -= std::min(bytes.toDownstream, headBytes.toDownstream);  // payload only
  co_return bytes;
}

}  // namespace mesh::proxy::dataplane
