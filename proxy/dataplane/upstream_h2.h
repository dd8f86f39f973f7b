// HTTP/2 upstream (h2c with prior knowledge) for clusters with http2 options: each worker keeps
// one multiplexed connection per endpoint and opens another only when max_concurrent_streams
// (ours, or the server's SETTINGS) or max_requests_per_connection is reached, or after a GOAWAY.
// Each connection is read by its own coroutine; requests wait on their stream. Worker thread only.
#pragma once

#include "proxy/dataplane/upstream.h"

namespace mesh::proxy::dataplane {

// Opens a stream on a pooled connection, sends the request (a pumped body from its own
// coroutine, BodySender) and waits for the response head until `deadline`. `trailers` (or the
// pump source's) go as a trailers HEADERS frame with END_STREAM.
asio::awaitable<UpstreamExchange> exchangeHeadHttp2(Worker& worker, ClusterRuntime& runtime, const Cluster& cluster,
                                                    const HostRuntime& host, const RequestHead& request,
                                                    std::string_view body, SteadyTime deadline, BodyPump* pump,
                                                    const std::vector<std::string>* alpnOverride = nullptr,
                                                    StreamIdle* idle = nullptr, const HeaderMap* trailers = nullptr,
                                                    UpstreamCodec connectCodec = UpstreamCodec::Http2);

// auto_config (`connectCodec` Alpn above: new connections offer h2 and http/1.1): whether the
// host has a live HTTP/2 connection with room for another stream, and a new connection on
// which ALPN chose h2 made one of the host's HTTP/2 connections.
bool http2ConnectionAvailable(Worker& worker, const Cluster& cluster, const HostRuntime& host,
                              const std::vector<std::string>* alpnOverride);
Result<void> adoptHttp2Connection(Worker& worker, const Cluster& cluster, const HostRuntime& host,
                                  std::shared_ptr<UpstreamConnection> conn,
                                  const std::vector<std::string>* alpnOverride);

// Closes the worker's HTTP/2 upstream connections (DataPlane::stop()).
void closeHttp2Upstreams(Worker& worker);

}  // namespace mesh::proxy::dataplane
