// Probing the local mesh's endpoints on loopback: an HTTP GET with a time limit (libcurl, the
// project's HTTP client), a TCP connect, whether a port is free to listen on, and the readiness
// wait install uses (poll GET /ready until 200, the process exits, or the deadline passes).
// Blocking; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"

namespace mesh::local {

struct HttpReply {
  long status = 0;
  std::string body;  // at most maxBody bytes
};

// Unavailable when nothing answers (the message says why: connection refused, timed out).
Result<HttpReply> httpGet(const std::string& url, std::chrono::milliseconds timeout, size_t maxBody = 1 << 20);
// A POST with an empty body (Envoy's admin takes its arguments in the query string).
Result<HttpReply> httpPost(const std::string& url, std::chrono::milliseconds timeout, size_t maxBody = 1 << 20);

// A TCP connection to 127.0.0.1:port succeeds within the timeout.
bool tcpConnects(uint16_t port, std::chrono::milliseconds timeout);
// Nothing listens on 127.0.0.1:port: a listening socket can be bound there now.
bool portIsFree(uint16_t port);

enum class WaitOutcome { Ready, Exited, TimedOut };
struct WaitResult {
  WaitOutcome outcome = WaitOutcome::TimedOut;
  std::string lastProblem;  // the last failed probe ("503 config not loaded yet", "connection refused")
  std::string exited;       // for Exited: how ("exited with code 69")
};

// Polls `url` until it answers 200. `exited` is asked between probes: a non-empty answer ends
// the wait (the process died). `tick` runs between probes too (a spinner's redraw).
WaitResult waitUntilReady(const std::string& url, std::chrono::steady_clock::time_point deadline,
                          const std::function<std::optional<std::string>()>& exited,
                          const std::function<void()>& tick = {});

}  // namespace mesh::local
