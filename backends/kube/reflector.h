// Reflector: keeps a consumer in step with one resource on the server, as client-go's
// reflector does: list, then watch from the list's resourceVersion (with bookmarks); when the
// stream ends, watch again from the last resourceVersion seen; on 410 Gone, list again; on
// errors, retry with exponential backoff and jitter. One thread per reflector, stopped promptly
// by stop() or the destructor, even in the middle of a request or a backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "backends/kube/discovery.h"
#include "backends/kube/kube_client.h"

namespace mesh::backends::kube {

struct ReflectorOptions {
  std::string namespace_{};  // "" all namespaces
  std::string labelSelector{};
  std::string fieldSelector{};
  int64_t pageSize = 500;
  // The server ends each watch after a random time in [watchTimeout, 2 * watchTimeout), so
  // many clients do not reconnect in step (client-go does the same with 5 minutes).
  std::chrono::seconds watchTimeout{300};
  std::chrono::milliseconds backoffBase{800};
  std::chrono::milliseconds backoffMax{30000};
};

// Callbacks run one at a time: onList on the reflector's thread, onEvent on the transport's
// (keep it short, and never wait there for another request). None runs after stop() returns.
struct ReflectorHandler {
  std::function<void(ObjectList&&)> onList;   // after each (re)list: the whole current state
  std::function<void(WatchEvent&&)> onEvent;  // the changes since, in order; bookmarks too
  std::function<void(const Error&)> onError;  // a failure; the reflector retries after a backoff
};

class Reflector {
 public:
  // Starts at once. `client` must outlive the reflector.
  Reflector(KubeClient& client, ApiResource resource, ReflectorOptions options,
            ReflectorHandler handler);
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void stop();
  const ApiResource& resource() const { return resource_; }
  // The resourceVersion the consumer is up to date with ("" before the first list).
  std::string resourceVersion() const;
  size_t lists() const { return lists_; }
  size_t watches() const { return watches_; }

 private:
  void run(std::stop_token stop);
  bool pause(std::chrono::milliseconds d, std::stop_token stop);

  KubeClient& client_;
  const ApiResource resource_;
  const ReflectorOptions options_;
  const ReflectorHandler handler_;
  mutable std::mutex mu_;
  std::string resourceVersion_;
  std::atomic<size_t> lists_{0};
  std::atomic<size_t> watches_{0};
  std::jthread thread_;  // last: started when everything else is ready
};

}  // namespace mesh::backends::kube
