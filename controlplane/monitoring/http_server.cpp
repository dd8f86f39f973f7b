#include "controlplane/monitoring/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

// GCC 12 at -O2/-O3 reports -Wnull-dereference inside Asio 1.74's inlined scheduler (a
// thread_info pointer it cannot prove non-null). The warning is about Boost's code, not ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <fmt/format.h>

namespace mesh::monitoring {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

Result<HostPort> parseAddress(std::string_view address) {
  const auto bad = [&](std::string_view why) {
    return fail(ErrorCode::Usage, fmt::format("invalid listen address \"{}\": {}", address, why),
                "use HOST:PORT, e.g. 127.0.0.1:15014, [::1]:15014 or :15014");
  };
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = address.substr(0, colon);
  const std::string_view portText = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address needs brackets");
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (portText.empty() || ec != std::errc() || end != portText.data() + portText.size() ||
      port > 65535) {
    return bad("the port is not a number from 0 to 65535");
  }
  // ":15014" means every interface, as in Go's net.Listen (IPv4 only here).
  return HostPort{host.empty() ? "0.0.0.0" : std::string(host), static_cast<std::uint16_t>(port)};
}

// Which status a failed read gets. Only HTTP parse errors are answered; a socket error or an
// early close leaves nobody to answer.
std::optional<unsigned> statusForReadError(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) return 400;
  return std::nullopt;
}

class Session;

// Everything the server is; HttpServer::Impl merely names it, so Session (which is not a member
// of HttpServer) can reach it.
struct ServerCore {
  ServerCore(RouteTable r, HttpServerOptions o) : routes(std::move(r)), options(o) {}

  Result<void> start(std::string_view address);
  void stop();
  void accept();
  void run();

  const RouteTable routes;
  const HttpServerOptions options;

  // I/O-thread state. `sessions` is declared before `io` so it outlives the sessions that
  // io's destructor frees (each removes itself from it).
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  bool stopping = false;
  bool ioThreadRunning = false;  // true from start() until stop() joined the thread

  asio::io_context io{1};  // concurrency hint: only the server's own thread runs it
  tcp::acceptor acceptor{io};
  asio::steady_timer retryTimer{io};
  asio::steady_timer graceTimer{io};

  // Caller-thread state.
  std::thread thread;
  std::atomic<std::uint16_t> port{0};
  bool started = false;
  bool stopped = false;
};

// One connection: read a request, answer it, repeat while keep-alive. Lives on the I/O thread;
// each pending operation holds a shared_ptr to it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerCore& server)
      : stream_(std::move(socket)), server_(server), buffer_(bufferLimit(server.options)) {}

  ~Session() {
    server_.sessions.erase(this);
    // The last connection is gone: stop() need not wait out its grace period.
    if (server_.stopping && server_.sessions.empty() && server_.ioThreadRunning) {
      server_.graceTimer.cancel();
    }
  }

  void start() { readRequest(); }

  // stop(): idle, reading and draining connections close now; a response being written
  // finishes first (onWrite sees `stopping` and closes).
  void shutdown() {
    if (state_ != State::Writing) close();
  }

 private:
  enum class State { Reading, Writing, Draining, Closed };

  static std::size_t bufferLimit(const HttpServerOptions& o) {
    // The parser enforces the real limits; this caps the buffer if it were ever asked for more.
    return o.maxHeaderBytes + o.maxBodyBytes + 64 * 1024;
  }

  void readRequest() {
    state_ = State::Reading;
    parser_.emplace();  // a parser reads one message
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.maxHeaderBytes));
    parser_->body_limit(static_cast<std::uint64_t>(server_.options.maxBodyBytes));
    // One deadline for the whole request: a client trickling bytes (slowloris) gets no longer.
    stream_.expires_after(server_.options.ioTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(const beast::error_code& ec) {
    if (state_ == State::Closed) return;
    if (ec) {
      if (const auto status = statusForReadError(ec)) {
        // The stream is out of step after a parse error: answer, then close.
        respond(HttpResponse::text(static_cast<int>(*status),
                                   fmt::format("{} {}: {}\n", *status,
                                               std::string(obsoleteReason(*status)), ec.message())),
                11, false, false);
      } else {
        close();  // timeout, reset, client closed, or stop()
      }
      return;
    }
    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    const std::string_view target(req.target().data(), req.target().size());
    const auto q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
    request.body = std::move(req.body());
    const bool keepAlive = req.keep_alive() && !server_.stopping;
    respond(server_.routes.dispatch(request), req.version(), keepAlive, request.method == "HEAD");
  }

  static std::string_view obsoleteReason(unsigned status) {
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    return {reason.data(), reason.size()};
  }

  void respond(HttpResponse r, unsigned version, bool keepAlive, bool head) {
    state_ = State::Writing;
    response_.emplace();
    auto& res = *response_;
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::content_type, r.contentType);
    for (const auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(keepAlive);
    if (head) {
      res.content_length(r.body.size());  // what GET would send, without the body
    } else {
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    stream_.expires_after(server_.options.ioTimeout);
    http::async_write(stream_, res,
                      [self = shared_from_this(), keepAlive](beast::error_code ec, std::size_t) {
                        self->onWrite(ec, keepAlive);
                      });
  }

  void onWrite(const beast::error_code& ec, bool keepAlive) {
    if (state_ == State::Closed) return;
    response_.reset();
    // stop() is waiting: the response is out, close now rather than wait for the client.
    if (ec || server_.stopping) return close();
    if (!keepAlive) return drainAndClose();
    readRequest();
  }

  // Closing a socket with unread input makes the kernel send RST, which can destroy the
  // response we just sent (e.g. a 413 before the client finished its body). So half-close,
  // then read and discard until the client closes, for at most two seconds.
  void drainAndClose() {
    state_ = State::Draining;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(server_.options.ioTimeout, std::chrono::seconds(2)));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drainBuffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();  // cancels pending operations; their handlers release this session
  }

  beast::tcp_stream stream_;
  ServerCore& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> drainBuffer_{};
  State state_ = State::Reading;
};

Result<void> ServerCore::start(std::string_view address) {
  if (started) return fail(ErrorCode::Internal, "the monitoring server was already started");
  auto hostPort = parseAddress(address);
  if (!hostPort) return Failure(hostPort.error());

  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto ip = asio::ip::make_address(hostPort->host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, hostPort->port);
  } else {
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(hostPort->host, std::to_string(hostPort->port),
                                          tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return fail(ErrorCode::Unavailable, fmt::format("cannot resolve \"{}\": {}", hostPort->host,
                                                      ec ? ec.message() : "no addresses"));
    }
    endpoint = results.begin()->endpoint();
  }

  const auto cannotListen = [&](const beast::error_code& why) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return fail(ErrorCode::Unavailable,
                fmt::format("cannot listen on {}: {}", address, why.message()),
                why == asio::error::address_in_use
                    ? "another process is listening on that port; stop it or pick another one"
                    : "");
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return cannotListen(ec);
  // Lets a restarted meshd bind while old connections sit in TIME_WAIT; not SO_REUSEPORT, so
  // two live servers still cannot share the port.
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return cannotListen(ec);
  if (acceptor.bind(endpoint, ec); ec) return cannotListen(ec);
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return cannotListen(ec);
  const auto local = acceptor.local_endpoint(ec);
  if (ec) return cannotListen(ec);
  port = local.port();

  started = true;
  ioThreadRunning = true;
  accept();
  thread = std::thread([this] { run(); });
  return {};
}

void ServerCore::run() {
  // Route handlers cannot throw past RouteTable::dispatch; this catches what is left (e.g.
  // bad_alloc inside Beast) so one bad moment does not end the server.
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      fmt::print(stderr, "monitoring server: {}\n", e.what());
    }
  }
}

void ServerCore::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      // E.g. out of file descriptors: try again shortly rather than spin.
      retryTimer.expires_after(std::chrono::milliseconds(100));
      retryTimer.async_wait([this](beast::error_code waitEc) {
        if (!waitEc && !stopping) accept();
      });
      return;
    }
    if (sessions.size() >= options.maxConnections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(std::move(socket), *this);
      sessions.emplace(session.get(), session);
      session->start();
    }
    accept();
  });
}

void ServerCore::stop() {
  if (stopped) return;
  stopped = true;
  if (!started) return;
  asio::post(io, [this] {
    stopping = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    retryTimer.cancel();
    std::vector<std::shared_ptr<Session>> live;
    for (const auto& [ptr, weak] : sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    if (!live.empty()) {
      // Armed before the sessions close, so the last one's destructor can cancel it.
      graceTimer.expires_after(options.shutdownGrace);
      graceTimer.async_wait([this](beast::error_code ec) {
        if (!ec) io.stop();  // grace is over: cut off whatever is still writing
      });
    }
    for (const auto& s : live) s->shutdown();
  });
  thread.join();
  ioThreadRunning = false;
}

}  // namespace

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
};

HttpServer::HttpServer(RouteTable routes, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(routes), options)) {}

HttpServer::~HttpServer() { stop(); }

Result<void> HttpServer::start(std::string_view address) { return impl_->start(address); }

std::uint16_t HttpServer::port() const { return impl_->port.load(); }

void HttpServer::stop() { impl_->stop(); }

}  // namespace mesh::monitoring
