// Http1Stream: one HTTP/1.1 request's downstream end for the router (DownstreamStream). It owns
// the HTTP/1.1 framing decisions for the response (Content-Length, chunked, or read-to-close for
// HTTP/1.0 clients; connection: close when closing) and reads a streamed request body through
// the request's parser. Built per request by serveHttp; worker thread only.
#pragma once

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/http1_codec.h"
#include "proxy/dataplane/http_stream.h"

namespace mesh::proxy::dataplane {

class Http1Stream : public DownstreamStream {
 public:
  // `streamingBody`: the request's parser when its body is read while it is sent upstream.
  Http1Stream(Engine& engine, Worker& worker, Downstream& ds, const HttpConnectionManagerConfig& hcm,
              unsigned clientMinor, bool clientWantsClose, Http1Parser* streamingBody);

  Downstream& connection() override { return ds_; }
  std::string_view protocol() const override { return clientMinor_ >= 1 ? "HTTP/1.1" : "HTTP/1.0"; }
  asio::awaitable<bool> sendLocalReply(unsigned status, std::string_view body, const HeaderMap* extra) override;
  asio::awaitable<bool> sendHead(ResponseHead head, std::optional<uint64_t> length, bool noBody) override;
  asio::awaitable<bool> sendBody(std::string_view data) override;
  asio::awaitable<bool> sendEnd(const HeaderMap* trailers) override;
  bool keepAlive() const override { return !close_ && !engine_.draining.load(); }

  bool bodyStreaming() const override { return parser_ != nullptr; }
  bool bodyDone() const override { return parser_ == nullptr || parser_->messageDone(); }
  std::optional<uint64_t> bodyLength() const override;
  asio::awaitable<std::optional<std::string>> bodyRead() override;
  // The request's chunked trailers, with the HCM's http_protocol_options.enable_trailers.
  const HeaderMap* requestTrailers() const override;
  // The request's parser (buffered or streamed body alike), for its trailers.
  void setRequestParser(const Http1Parser& parser) { request_ = &parser; }
  // Cancels a pending read; the connection closes after this request (its body has no end).
  void stopBody() override;

 private:
  asio::awaitable<bool> write(std::string_view data);
  Engine& engine_;
  Worker& worker_;
  Downstream& ds_;
  const HttpConnectionManagerConfig& hcm_;
  unsigned clientMinor_;
  bool close_;
  Http1Parser* parser_;
  const Http1Parser* request_ = nullptr;
  bool chunked_ = false;
  std::string pendingHead_;  // written with the first body bytes
  bool bodyStopped_ = false;
};

}  // namespace mesh::proxy::dataplane
