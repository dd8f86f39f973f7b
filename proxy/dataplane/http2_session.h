// The downstream HTTP connection manager's codec choice and its HTTP/2 side. serveHttpAuto picks
// the codec the HCM allows: HTTP2 always, HTTP1 always, AUTO by the first bytes (the HTTP/2
// client preface "PRI * HTTP/2.0", i.e. h2c with prior knowledge, else HTTP/1.1). serveHttp2
// serves one h2c connection: each stream is a request handed to the router, limited by
// http2_protocol_options; a stream error resets that stream only; drain sends GOAWAY.
// Worker thread only.
#pragma once

#include "proxy/dataplane/engine.h"

namespace mesh::proxy::dataplane {

asio::awaitable<void> serveHttpAuto(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                                    std::shared_ptr<const FilterChain> chain);
asio::awaitable<void> serveHttp2(Engine& engine, Worker& worker, std::shared_ptr<Downstream> ds,
                                 std::shared_ptr<const FilterChain> chain);

}  // namespace mesh::proxy::dataplane
