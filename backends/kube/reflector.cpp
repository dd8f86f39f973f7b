#include "backends/kube/reflector.h"

#include <condition_variable>
#include <random>

namespace mesh::backends::kube {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds jittered(std::chrono::milliseconds base, int failures,
                                   std::chrono::milliseconds max) {
  thread_local std::mt19937 rng{std::random_device{}()};
  auto d = std::min<std::chrono::milliseconds>(base * (1LL << std::min(failures, 16)), max);
  // Up to +50%: reflectors of many clients that failed together spread out.
  std::uniform_int_distribution<long long> extra(0, d.count() / 2);
  return d + std::chrono::milliseconds(extra(rng));
}

}  // namespace

Reflector::Reflector(KubeClient& client, ApiResource resource, ReflectorOptions options,
                     ReflectorHandler handler)
    : client_(client),
      resource_(std::move(resource)),
      options_(std::move(options)),
      handler_(std::move(handler)) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

Reflector::~Reflector() { stop(); }

void Reflector::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  if (thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::string Reflector::resourceVersion() const {
  std::lock_guard lock(mu_);
  return resourceVersion_;
}

bool Reflector::pause(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

void Reflector::run(std::stop_token stop) {
  std::mt19937 rng{std::random_device{}()};
  bool needList = true;
  int failures = 0;
  std::string rv;
  auto setRv = [&](const std::string& v) {
    rv = v;
    std::lock_guard lock(mu_);
    resourceVersion_ = v;
  };
  while (!stop.stop_requested()) {
    if (needList) {
      ListOptions lo{.namespace_ = options_.namespace_,
                     .labelSelector = options_.labelSelector,
                     .fieldSelector = options_.fieldSelector,
                     .pageSize = options_.pageSize};
      auto list = client_.list(resource_, lo, stop);
      if (stop.stop_requested()) return;
      if (!list) {
        if (handler_.onError) handler_.onError(list.error());
        if (!pause(jittered(options_.backoffBase, failures++, options_.backoffMax), stop)) return;
        continue;
      }
      ++lists_;
      std::string listRv = list->resourceVersion;
      if (handler_.onList) handler_.onList(std::move(*list));
      setRv(listRv);
      needList = false;
    }

    auto secs = options_.watchTimeout.count();
    std::uniform_int_distribution<long long> spread(secs, std::max(secs, 2 * secs - 1));
    WatchRequest req{.namespace_ = options_.namespace_,
                     .labelSelector = options_.labelSelector,
                     .fieldSelector = options_.fieldSelector,
                     .resourceVersion = rv,
                     .allowBookmarks = true,
                     .timeout = std::chrono::seconds(spread(rng))};
    auto started = Clock::now();
    ++watches_;
    WatchEnd end = client_.watchOnce(
        resource_, req,
        [&](WatchEvent&& e) {
          std::string eventRv = metadataString(e.object, "resourceVersion");
          if (handler_.onEvent) handler_.onEvent(std::move(e));
          if (!eventRv.empty()) {
            std::lock_guard lock(mu_);
            resourceVersion_ = eventRv;
          }
        },
        stop);
    if (stop.stop_requested()) return;
    if (!end.resourceVersion.empty()) setRv(end.resourceVersion);
    if (end.gone) {
      // The server compacted past our resourceVersion: only a new list can catch us up.
      needList = true;
      continue;
    }
    bool productive = end.events > 0 || Clock::now() - started > std::chrono::seconds(5);
    if (productive) failures = 0;
    if (end.error) {
      if (handler_.onError) handler_.onError(*end.error);
      if (!pause(jittered(options_.backoffBase, failures++, options_.backoffMax), stop)) return;
    } else if (!productive) {
      // A server that ends watches at once must not make us spin.
      if (!pause(jittered(options_.backoffBase, failures++, options_.backoffMax), stop)) return;
    }
  }
}

}  // namespace mesh::backends::kube
