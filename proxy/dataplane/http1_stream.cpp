// HTTP/1.1 downstream end of a request: see http1_stream.h.
#include "proxy/dataplane/http1_stream.h"

namespace mesh::proxy::dataplane {

Http1Stream::Http1Stream(Engine& engine, Worker& worker, Downstream& ds, const HttpConnectionManagerConfig& hcm,
                         unsigned clientMinor, bool clientWantsClose, Http1Parser* streamingBody)
    : engine_(engine),
      worker_(worker),
      ds_(ds),
      hcm_(hcm),
      clientMinor_(clientMinor),
      close_(clientWantsClose || engine.draining.load()),
      parser_(streamingBody) {}

asio::awaitable<bool> Http1Stream::write(std::string_view data) {
  boost::system::error_code ec;
  co_await asio::async_write(ds_.socket, asio::buffer(data.data(), data.size()), asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<bool> Http1Stream::sendLocalReply(unsigned status, std::string_view body, const HeaderMap* extra) {
  close_ = close_ || engine_.draining.load();  // a drain that began meanwhile closes after this reply
  std::string reply = localReply(status, body, &hcm_, close_, extra);
  co_return co_await write(reply);
}

asio::awaitable<bool> Http1Stream::sendHead(ResponseHead head, std::optional<uint64_t> length, bool noBody) {
  close_ = close_ || engine_.draining.load();
  std::optional<uint64_t> lengthDown;
  chunked_ = false;
  if (noBody || length) {
    lengthDown = length;
  } else if (clientMinor_ >= 1) {
    chunked_ = true;
  } else {
    close_ = true;  // an HTTP/1.0 client reads the body to the close
  }
  pendingHead_ = serializeResponseHead(head, lengthDown, chunked_, close_ && clientMinor_ >= 1);
  if (!noBody) co_return true;
  std::string out = std::exchange(pendingHead_, {});
  co_return co_await write(out);
}

asio::awaitable<bool> Http1Stream::sendBody(std::string_view data) {
  std::string out = std::exchange(pendingHead_, {});
  if (chunked_) appendChunk(out, data);
  else out.append(data);
  if (out.empty()) co_return true;
  co_return co_await write(out);
}

asio::awaitable<bool> Http1Stream::sendEnd(const HeaderMap* trailers) {
  std::string out = std::exchange(pendingHead_, {});
  if (chunked_) {
    // The last chunk carries the trailers (RFC 9112 7.1.2) when the HCM's enable_trailers
    // allows; Envoy's HTTP/1 codec drops them otherwise.
    appendLastChunk(out, hcm_.http1Trailers ? trailers : nullptr);
  }
  if (out.empty()) co_return true;
  co_return co_await write(out);
}

const HeaderMap* Http1Stream::requestTrailers() const {
  if (!hcm_.http1Trailers || request_ == nullptr || !request_->messageDone()) return nullptr;
  return request_->trailers().size() > 0 ? &request_->trailers() : nullptr;
}

std::optional<uint64_t> Http1Stream::bodyLength() const {
  return parser_ != nullptr ? parser_->contentLength() : std::nullopt;
}

void Http1Stream::stopBody() {
  bodyStopped_ = true;
  boost::system::error_code ignored;
  ds_.socket.cancel(ignored);
}

asio::awaitable<std::optional<std::string>> Http1Stream::bodyRead() {
  if (parser_ == nullptr || parser_->messageDone()) co_return std::string();
  if (bodyStopped_) co_return std::nullopt;
  Deadline idle(worker_.ioc, std::chrono::steady_clock::now() + hcm_.idleTimeout, [&ds = ds_] {
    boost::system::error_code ignored;
    ds.socket.close(ignored);
  });
  for (;;) {
    if (!ds_.buffer.empty()) {
      size_t used = parser_->parse(ds_.buffer);
      ds_.buffer.erase(0, used);
    }
    if (parser_->failed()) co_return std::nullopt;
    if (parser_->pendingBodyBytes() > 0 || parser_->messageDone()) co_return parser_->takeBody();
    boost::system::error_code ec;
    size_t n = co_await ds_.socket.async_read_some(ds_.chunk.buffer(), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) co_return std::nullopt;
    ds_.buffer.append(ds_.chunk.first(n));
  }
}

}  // namespace mesh::proxy::dataplane
