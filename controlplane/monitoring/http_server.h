// HttpServer: the minimal HTTP/1.1 server behind meshd's monitoring port (istiod's 15014). It
// owns one I/O thread, on which every request is read, dispatched through a RouteTable and
// answered. Untrusted input is bounded (header and body size, read timeout, connection count)
// and a bad request only costs its own connection. start() and stop() may be called from any
// one thread (meshd's main); the Boost.Beast implementation stays in http_server.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "controlplane/monitoring/route_table.h"
#include "core/result.h"

namespace mesh::monitoring {

struct HttpServerOptions {
  std::size_t maxHeaderBytes = 16 * 1024;  // request line + headers; over → 431
  std::size_t maxBodyBytes = 1024 * 1024;  // over → 413
  // Bounds each read and write; an idle keep-alive connection is closed after it too.
  std::chrono::milliseconds ioTimeout{10000};
  // Connections beyond this are closed at once: a scrape needs one, a probe another.
  std::size_t maxConnections = 256;
  // How long stop() lets responses in flight finish before it cuts them off.
  std::chrono::milliseconds shutdownGrace{5000};
};

class HttpServer {
 public:
  explicit HttpServer(RouteTable routes, HttpServerOptions options = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. address is "HOST:PORT": "127.0.0.1:15014", "[::1]:0",
  // "localhost:8080", or ":15014" for every IPv4 interface. Port 0 picks a free port (see
  // port()). Fails (Usage) on a malformed address, (Unavailable) when it cannot bind, and when
  // called twice.
  Result<void> start(std::string_view address);

  // The bound port once start() succeeded, else 0.
  std::uint16_t port() const;

  // Stops accepting, closes idle connections, lets responses being written finish (up to
  // shutdownGrace), then joins the I/O thread. Idempotent; the server cannot be restarted.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesh::monitoring
