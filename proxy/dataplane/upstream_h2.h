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
                                                    StreamIdle* idle = nullptr, const HeaderMap* trailers = nullptr);

// Closes the worker's HTTP/2 upstream connections (DataPlane::stop()).
void closeHttp2Upstreams(Worker& worker);

}  // namespace mesh::proxy::dataplane
