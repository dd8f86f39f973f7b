// Upstream HTTP/1.1 exchanges for the router: a connection from the worker's keep-alive pool
// or a new one (connect_timeout, max_connections / max_pending_requests), the request written,
// the response head read (1xx skipped) before a deadline. Worker thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/http1_codec.h"

namespace mesh::proxy::dataplane {

enum class UpstreamFailure { None, Overflow, ConnectFailure, Reset, Timeout };

struct UpstreamExchange {
  UpstreamFailure failure = UpstreamFailure::None;
  std::string detail;  // Envoy's transport failure reason, e.g. "delayed connect error: 111"
  std::shared_ptr<UpstreamConnection> conn;
  std::unique_ptr<Http1Parser> parser;  // response head parsed when failure == None
};

using SteadyTime = std::chrono::steady_clock::time_point;

// A request body too large to buffer, copied from downstream while it arrives (no retries:
// it cannot be replayed). The route timeout starts once it is all sent, as in Envoy.
struct BodyPump {
  Downstream& ds;
  Http1Parser& parser;  // the downstream request's parser, header done
  std::string prefix;   // body bytes already read
  bool chunked = true;  // framing towards upstream
  std::chrono::milliseconds idleTimeout{3'600'000};
  std::chrono::milliseconds routeTimeout{0};
};

// Sends `wire` (the head, and the whole body when buffered) and, with a pump, the streamed
// body; then reads the response head before `deadline`.
asio::awaitable<UpstreamExchange> exchangeHead(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                               const HostRuntime& host, std::string_view wire,
                                               bool headRequest, SteadyTime deadline, BodyPump* pump = nullptr,
                                               bool allowUpgrade = false);

// Returns the connection to the pool when the response ended cleanly and keep-alive allows.
void releaseConnection(Worker& worker, std::shared_ptr<UpstreamConnection> conn, const Cluster& cluster,
                       const Http1Parser& parser);

// Reads more of the response into the parser; false on EOF/error (parser finished on EOF).
asio::awaitable<bool> readResponseMore(UpstreamConnection& conn, Http1Parser& parser);

}  // namespace mesh::proxy::dataplane
