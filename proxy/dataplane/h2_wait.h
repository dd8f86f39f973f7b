// A one-waiter wake-up for coroutines on one io_context: the waiter checks its condition, then
// waits; notify() wakes it. Used by the HTTP/2 streams on both sides. Worker thread only.
#pragma once

#include "proxy/dataplane/asio_includes.h"

#include <chrono>

namespace mesh::proxy::dataplane {

class StreamSignal {
 public:
  explicit StreamSignal(const boost::asio::any_io_executor& ex) : timer_(ex) {}
  // Returns after notify(), or at `until`.
  boost::asio::awaitable<void> wait(std::chrono::steady_clock::time_point until =
                                        std::chrono::steady_clock::time_point::max()) {
    timer_.expires_at(until);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace mesh::proxy::dataplane
