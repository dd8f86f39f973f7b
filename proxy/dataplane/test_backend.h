// A tiny HTTP/1.1 backend for the data plane's loopback tests, on Beast, one thread per
// connection. It answers by path: /fail-every-other (503 on every second request),
// any path with slow?ms=N (delayed), anything else 200 "backend=<name> path=<path>"; every response carries
// x-backend and echoes x-request-id and x-forwarded-proto. "Upgrade: echo" switches to
// echoing raw bytes. Paths under /ext-authz/ act as an HTTP authorization server: status from
// the request's x-test-status, x-test-reply-<name> headers returned as <name>. Tests only.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mesh::proxy::dataplane::testing {

class TestBackend {
 public:
  explicit TestBackend(std::string name);
  ~TestBackend();
  uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }  // accepted so far
  int closedConnections() const { return closed_.load(); }  // ended by the peer (or by us)
  std::string lastHeader(const std::string& name);  // from the latest request

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::atomic<int> closed_{0};
  std::atomic<int> flaky_{0};
  friend struct Impl;
};

// Runs a command and returns its standard output (tests run curl this way).
std::string run(const std::string& command);

}  // namespace mesh::proxy::dataplane::testing
