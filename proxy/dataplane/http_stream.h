// The router's two ends of one request, whatever the codec. DownstreamStream is where the request
// came from and where the response goes (an HTTP/1.1 connection: http1_stream.cpp; an HTTP/2
// stream: http2_session.cpp). UpstreamResponse is a response being read from an upstream
// (HTTP/1.1: upstream.cpp; HTTP/2: upstream_h2.cpp). Worker thread only.
#pragma once

#include "proxy/dataplane/asio_includes.h"

#include <optional>
#include <string>
#include <string_view>

#include "proxy/dataplane/http_message.h"

namespace mesh::proxy::dataplane {

struct Downstream;

class DownstreamStream {
 public:
  virtual ~DownstreamStream() = default;
  // The connection the request arrived on (addresses; HTTP/1.1 upgrades take its socket).
  virtual Downstream& connection() = 0;
  virtual std::string_view protocol() const = 0;  // "HTTP/1.1", "HTTP/2"

  // A local reply (Envoy's shape: text/plain body, date, server).
  virtual boost::asio::awaitable<bool> sendLocalReply(unsigned status, std::string_view body,
                                                      const HeaderMap* extraHeaders) = 0;
  // The response: a head, body pieces, then the end. `noBody`: nothing follows the head (HEAD,
  // 204, 304); `length` is the upstream's Content-Length when it gave one. False: the client is
  // gone and the response should be abandoned.
  virtual boost::asio::awaitable<bool> sendHead(ResponseHead head, std::optional<uint64_t> length, bool noBody) = 0;
  virtual boost::asio::awaitable<bool> sendBody(std::string_view data) = 0;
  virtual boost::asio::awaitable<bool> sendEnd(const HeaderMap* trailers) = 0;
  // After the response: may the connection carry another request (HTTP/1.1 keep-alive)?
  virtual bool keepAlive() const = 0;

  // A request body that was not read whole before routing is read from here while it is sent
  // upstream. bodyRead(): the next piece ("" once bodyDone()); nullopt when the client failed.
  virtual bool bodyStreaming() const = 0;
  virtual bool bodyDone() const = 0;
  virtual std::optional<uint64_t> bodyLength() const = 0;
  virtual boost::asio::awaitable<std::optional<std::string>> bodyRead() = 0;
  // The request's trailers, once its body has ended (HTTP/2 trailers HEADERS; HTTP/1.1 chunked
  // trailers when the HCM's enable_trailers allows); nullptr when there were none.
  virtual const HeaderMap* requestTrailers() const { return nullptr; }
  // The response is over and the rest of the body is not wanted: a pending or later
  // bodyRead() returns nullopt soon (HTTP/2: the stream is then reset with NO_ERROR).
  virtual void stopBody() = 0;
};

class UpstreamResponse {
 public:
  virtual ~UpstreamResponse() = default;
  virtual ResponseHead& head() = 0;
  virtual std::optional<uint64_t> contentLength() const = 0;
  // Body bytes received and not taken yet.
  virtual std::string takeBody() = 0;
  // Waits for more of the response; false once nothing more will come (ended or failed).
  virtual boost::asio::awaitable<bool> readMore() = 0;
  // The response ended cleanly (all of the body, and trailers if any).
  virtual bool complete() const = 0;
  virtual const HeaderMap* trailers() const = 0;
  // The rest is not wanted (a retry, a timeout, the client left): close or reset.
  virtual void abandon() = 0;
  // Complete: return the connection to its pool.
  virtual void finish() = 0;
};

// Envoy's local reply for a gRPC request: HTTP 200 with grpc-status mapped from the HTTP status
// (Grpc::Utility::httpToGrpcStatus) and grpc-message, no body. True when `headers` are gRPC's.
bool isGrpcRequest(const HeaderMap& requestHeaders);
uint32_t grpcStatusForHttp(unsigned httpStatus);
// grpc-timeout ("100m", "5S", ...) as milliseconds; nullopt when absent or malformed.
std::optional<std::chrono::milliseconds> grpcTimeout(const HeaderMap& requestHeaders);

}  // namespace mesh::proxy::dataplane
