// Tunnels carried by an HTTP request once the upstream side is a raw byte stream: a CONNECT
// (terminated here, or forwarded and answered 2xx) and an upgrade answered 101. The router calls
// relayTunnel on the request's worker; it returns when both directions are done.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "proxy/dataplane/engine.h"

namespace mesh::proxy::dataplane {

class DownstreamStream;  // http_stream.h

// Sends `head` to the client, then relays bytes both ways between the client and `conn`.
// HTTP/1.1: the head then raw bytes on the connection itself (as tcp_proxy does, half-closes
// passing through). HTTP/2: a HEADERS frame, then DATA both ways; END_STREAM is the half-close
// and a reset either way closes the upstream. `toDownstream`: upstream bytes that came with the
// head. Nothing moving either way for `idle` (0: no limit) ends the tunnel.
asio::awaitable<RelayBytes> relayTunnel(Worker& worker, DownstreamStream& stream,
                                        std::shared_ptr<UpstreamConnection> conn, ResponseHead head,
                                        std::string toDownstream, std::chrono::milliseconds idle);

}  // namespace mesh::proxy::dataplane
