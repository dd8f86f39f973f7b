// A wake-up for coroutines on one io_context: each waiter checks its condition, then waits;
// notify() wakes every waiter. Used by the HTTP/2 streams on both sides. Worker thread only.
#pragma once

#include "proxy/dataplane/asio_includes.h"

#include <chrono>

namespace mesh::proxy::dataplane {

class StreamSignal {
 public:
  // The timer never expires: waiters wake only through notify(), all of them at once, so a
  // stream's response writer and its request-body reader may wait on one signal together.
  explicit StreamSignal(const boost::asio::any_io_executor& ex) : timer_(ex) {
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
  }
  // Returns after the next notify().
  boost::asio::awaitable<void> wait() {
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace mesh::proxy::dataplane
