// Transport: see transport.h.
#include "proxy/dataplane/transport.h"

#include <openssl/ssl.h>

namespace mesh::proxy::dataplane {

Transport::~Transport() {
  // A connection closed without close_notify keeps its session resumable, as in BoringSSL (so
  // Envoy); OpenSSL would otherwise drop it from the server's session cache when freed.
  if (tls_) SSL_set_shutdown(tls_->native_handle(), SSL_get_shutdown(tls_->native_handle()) | SSL_SENT_SHUTDOWN);
}

void Transport::startTls(std::shared_ptr<asio::ssl::context> ctx) {
  ctx_ = std::move(ctx);
  tls_ = std::make_unique<TlsStream>(std::move(tcp_), *ctx_);
}

asio::awaitable<boost::system::error_code> Transport::handshake(bool server) {
  boost::system::error_code ec;
  if (!tls_) co_return ec;
  co_await tls_->async_handshake(server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
                                 asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

asio::awaitable<void> Transport::closeNotify(std::chrono::milliseconds timeout) {
  if (!tls_ || !tls_->next_layer().is_open()) co_return;
  // Marking the peer's close_notify as received makes SSL_shutdown finish once ours is sent,
  // instead of waiting for the peer's; the connection is closed right after.
  SSL_set_shutdown(tls_->native_handle(), SSL_get_shutdown(tls_->native_handle()) | SSL_RECEIVED_SHUTDOWN);
  auto timer = std::make_shared<asio::steady_timer>(get_executor(), timeout);
  auto done = std::make_shared<bool>(false);
  timer->async_wait([this, done](boost::system::error_code ec) {
    if (ec || *done) return;  // the shutdown finished first; `this` may be gone
    boost::system::error_code ignored;
    tls_->next_layer().close(ignored);
  });
  boost::system::error_code ec;
  co_await tls_->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  *done = true;
  timer->cancel();
}

}  // namespace mesh::proxy::dataplane
