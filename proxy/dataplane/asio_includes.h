// The Boost.Asio headers the data plane uses, in one place so their GCC 12 warnings are
// silenced once. Include this before any other Boost header. Internal to dataplane.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

// GCC 12 at -O2/-O3 reports -Wnull-dereference inside Asio 1.74's inlined scheduler (a
// thread_info pointer it cannot prove non-null). The warning is about Boost's code, not ours.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#pragma GCC diagnostic pop
