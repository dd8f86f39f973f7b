// Transport: one connection's byte stream, plain TCP or TLS (boost::asio::ssl::stream over the
// TCP socket), so the HTTP/1.1, HTTP/2 and tcp_proxy paths read, write, half-close and close
// the same way on either. Models Asio's AsyncReadStream/AsyncWriteStream and forwards the
// socket calls the data plane makes. Owned by a Downstream or UpstreamConnection; worker
// thread only. One read and one write may be outstanding at a time, as with a socket.
#pragma once

#include "proxy/dataplane/asio_includes.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#pragma GCC diagnostic pop

#include <chrono>
#include <memory>

namespace mesh::proxy::dataplane {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Transport {
 public:
  using executor_type = asio::any_io_executor;
  using TlsStream = asio::ssl::stream<tcp::socket>;

  explicit Transport(const executor_type& ex) : tcp_(ex) {}
  explicit Transport(tcp::socket s) : tcp_(std::move(s)) {}
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;
  ~Transport();

  executor_type get_executor() { return lowestLayer().get_executor(); }
  tcp::socket& lowestLayer() { return tls_ ? tls_->next_layer() : tcp_; }
  bool isTls() const { return tls_ != nullptr; }
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }

  // Wraps the connected socket in TLS; the handshake follows. `ctx` lives as long as this.
  void startTls(std::shared_ptr<asio::ssl::context> ctx);
  // The TLS handshake as server or client; the caller bounds it with a deadline that closes.
  asio::awaitable<boost::system::error_code> handshake(bool server);
  // Sends TLS close_notify (bounded by `timeout`) before a full close; nothing for plain TCP.
  // Reads after it see EOF.
  asio::awaitable<void> closeNotify(std::chrono::milliseconds timeout);

  // Reads: EOF without close_notify is reported as EOF, as the peer's FIN on plain TCP.
  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (tls_) {
            tls_->async_read_some(b, [h = std::move(handler)](boost::system::error_code ec, size_t n) mutable {
              if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
              std::move(h)(ec, n);
            });
          } else {
            tcp_.async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (tls_) tls_->async_write_some(b, std::move(handler));
          else tcp_.async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

  // Half-close: TLS shuts the TCP write side without close_notify (close_notify would end
  // the peer's sending too in TLS 1.2); peers see EOF either way.
  void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) { lowestLayer().shutdown(what, ec); }
  void close(boost::system::error_code& ec) { lowestLayer().close(ec); }
  void cancel(boost::system::error_code& ec) { lowestLayer().cancel(ec); }
  bool is_open() { return lowestLayer().is_open(); }
  tcp::socket::native_handle_type native_handle() { return lowestLayer().native_handle(); }
  template <typename Option>
  void set_option(const Option& o, boost::system::error_code& ec) { lowestLayer().set_option(o, ec); }
  tcp::endpoint local_endpoint(boost::system::error_code& ec) { return lowestLayer().local_endpoint(ec); }
  tcp::endpoint remote_endpoint(boost::system::error_code& ec) { return lowestLayer().remote_endpoint(ec); }
  template <typename Token>
  auto async_wait(tcp::socket::wait_type w, Token&& token) { return lowestLayer().async_wait(w, std::forward<Token>(token)); }
  template <typename Token>
  auto async_connect(const tcp::endpoint& e, Token&& token) { return lowestLayer().async_connect(e, std::forward<Token>(token)); }

 private:
  std::shared_ptr<asio::ssl::context> ctx_;  // first: outlives the stream made from it
  tcp::socket tcp_;  // moved into tls_ by startTls()
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace mesh::proxy::dataplane
