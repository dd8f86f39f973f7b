// Upstream HTTP/1.1 exchanges for the router: a connection from the worker's keep-alive pool
// or a new one (connect_timeout, max_connections / max_pending_requests), the request written,
// the response head read (1xx skipped) before a deadline. Worker thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/h2_wait.h"
#include "proxy/dataplane/http1_codec.h"
#include "proxy/dataplane/http_stream.h"

namespace mesh::proxy::dataplane {

enum class UpstreamFailure { None, Overflow, ConnectFailure, Reset, Timeout };

struct UpstreamExchange {
  UpstreamFailure failure = UpstreamFailure::None;
  std::string detail;  // Envoy's transport failure reason, e.g. "delayed connect error: 111"
  std::shared_ptr<UpstreamConnection> conn;
  std::unique_ptr<Http1Parser> parser;  // HTTP/1.1: response head parsed when failure == None
  std::unique_ptr<UpstreamResponse> response;  // either codec: set when failure == None
  std::string peerPrincipal;  // TLS: the server certificate's first URI SAN (destination_principal)
};

using SteadyTime = std::chrono::steady_clock::time_point;

// The codec a request goes upstream with, as Envoy's upstreamHttpProtocol: the cluster's
// explicit one; with use_downstream_protocol_config the client's (HTTP/2 → HTTP/2, HTTP/1.x →
// HTTP/1.1); with auto_config `Alpn` (the TLS handshake offers h2 and http/1.1 and the
// server's choice decides; a plain endpoint, which Envoy's config check rules out, HTTP/1.1).
// Upgrades always go over HTTP/1.1.
enum class UpstreamCodec { Http1, Http2, Alpn };
UpstreamCodec upstreamCodec(const Cluster& cluster, const Endpoint& endpoint, std::string_view downstreamProtocol,
                            bool upgrade = false);

// A request body sent upstream by its own coroutine while the response is read (HTTP/2: so
// gRPC's bidirectional streams flow both ways at once; HTTP/1.1: so an upstream that answers
// before reading the whole body is heard, and a body larger than the socket buffers cannot
// deadlock). The router waits for `done` before the request ends: the sender reads from the
// DownstreamStream.
struct BodySender {
  explicit BodySender(const asio::any_io_executor& ex) : signal(ex) {}
  bool done = false;    // the body ended, or sending stopped
  bool failed = false;  // the client went away (or stopped being read) before its body ended
  bool complete = false;  // the whole body (and trailers) went upstream
  uint64_t bytesSent = 0;
  StreamSignal signal;  // notified once done
};

// A request body too large to buffer, copied from downstream while it arrives (no retries:
// it cannot be replayed) by a BodySender. The route timeout starts once it is all sent, as in
// Envoy.
struct BodyPump {
  DownstreamStream& source;  // the downstream request, its body not yet read whole
  std::string prefix;   // body bytes already read
  bool chunked = true;  // framing towards upstream
  std::chrono::milliseconds idleTimeout{3'600'000};
  std::chrono::milliseconds routeTimeout{0};
  std::shared_ptr<BodySender> sender;  // set once the body is being sent concurrently
};

// Sends the request (with `body` whole, or with a pump the body as it arrives) and reads the
// response head before `deadline`: over HTTP/1.1, or over the endpoint's shared h2c connection
// (upstream_h2.h), by upstreamCodec() for a client speaking `downstreamProtocol`. `trailers` end a whole body (a pump's come
// from its source); over HTTP/1.1 only with the cluster's enable_trailers, the body then chunked.
asio::awaitable<UpstreamExchange> exchangeHead(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                               const HostRuntime& host, const RequestHead& request,
                                               std::string_view body, std::optional<uint64_t> framedLength,
                                               SteadyTime deadline, BodyPump* pump = nullptr,
                                               bool allowUpgrade = false,
                                               const std::vector<std::string>* alpnOverride = nullptr,
                                               StreamIdle* idle = nullptr, const HeaderMap* trailers = nullptr,
                                               std::string_view downstreamProtocol = "HTTP/1.1");

// A new upstream TCP connection within the cluster's circuit breakers (connect_timeout,
// max_connections, then max_pending_requests), or nullptr with out.failure set. TLS endpoints
// offer `alpnOverride` (istio.alpn) instead of the context's ALPN when set (tls_handshake.h),
// minus h2 for HTTP/1.1, plus h2 and http/1.1 for `Alpn`; the choice is left in `alpn`.
asio::awaitable<std::shared_ptr<UpstreamConnection>> connectUpstream(Worker& worker, ClusterRuntime& runtime,
                                                                     const Cluster& cluster, const HostRuntime& host,
                                                                     const std::string& key, SteadyTime deadline,
                                                                     UpstreamExchange& out,
                                                                     UpstreamCodec codec = UpstreamCodec::Http1,
                                                                     const std::vector<std::string>* alpnOverride = nullptr);

// Returns the connection to the pool when the response ended cleanly and keep-alive allows.
void releaseConnection(Worker& worker, std::shared_ptr<UpstreamConnection> conn, const Cluster& cluster,
                       const Http1Parser& parser);

// Reads more of the response into the parser; false on EOF/error (parser finished on EOF).
asio::awaitable<bool> readResponseMore(UpstreamConnection& conn, Http1Parser& parser);

}  // namespace mesh::proxy::dataplane
