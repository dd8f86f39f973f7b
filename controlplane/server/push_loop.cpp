#include "controlplane/server/push_loop.h"

#include "controlplane/xds/xds_resource.h"

namespace mesh::server {
namespace {

// Kinds whose changes only move endpoints: Istio's EDS-only (incremental) push.
bool endpointKind(const core::ResourceKey& k) {
  return (k.group.empty() && k.kind == "Pod") || (k.group == "discovery.k8s.io" && k.kind == "EndpointSlice") ||
         (k.group == "networking.istio.io" && k.kind == "WorkloadEntry");
}

}  // namespace

PushLoop::PushLoop(core::ConfigStore& store, AdsServer& server, PushLoopOptions options, PushLoopHooks hooks)
    : store_(store), server_(server), options_(std::move(options)), hooks_(std::move(hooks)) {}

PushLoop::~PushLoop() { stop(); }

Result<void> PushLoop::start() {
  auto sub = store_.watch([this](const core::WatchEvent& e) {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (!pending_) {
      firstEvent_ = now;
      endpointsOnly_ = true;
    }
    pending_ = true;
    endpointsOnly_ = endpointsOnly_ && endpointKind(e.item.key());
    lastEvent_ = now;
    cv_.notify_one();
  });
  if (!sub) return fail(sub.error().code, sub.error().message, sub.error().hint);
  subscription_ = std::move(*sub);
  auto t0 = std::chrono::steady_clock::now();
  if (auto listed = store_.list(); !listed) return fail(listed.error().code, listed.error().message);
  publish(false, t0);
  thread_ = std::thread([this] { run(); });
  return {};
}

void PushLoop::stop() {
  subscription_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PushLoop::ready() const {
  std::lock_guard lock(mu_);
  return version_ > 0;
}

uint64_t PushLoop::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

void PushLoop::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || pending_; });
    if (stopping_) return;
    // Debounce: wait for a quiet period, but never past maxDelay from the first change.
    for (;;) {
      auto quietAt = lastEvent_ + options_.debounce;
      auto deadline = std::min(quietAt, firstEvent_ + options_.maxDelay);
      if (std::chrono::steady_clock::now() >= deadline) break;
      cv_.wait_until(lock, deadline, [&] { return stopping_; });
      if (stopping_) return;
    }
    bool endpointsOnly = endpointsOnly_;
    auto since = firstEvent_;
    pending_ = false;
    lock.unlock();
    publish(endpointsOnly, since);
    lock.lock();
  }
}

void PushLoop::publish(bool endpointsOnly, std::chrono::steady_clock::time_point since) {
  auto listed = store_.list();
  if (!listed) return;  // keep the last good snapshot; the next change retries
  std::vector<core::Resource> resources;
  resources.reserve(listed->size());
  for (auto& item : *listed) resources.push_back(std::move(item.resource));
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    version = version_ + 1;
  }
  auto push = std::make_shared<PushContext>();
  push->snapshot = model::ConfigSnapshot::build(std::move(resources), version, options_.snapshot);
  push->triggeredAt = since;
  if (endpointsOnly) push->affectedTypes.insert(std::string(xds::type_url::kEndpoint));
  std::set<std::string> skips;
  for (const core::Diagnostic& d : push->snapshot->skipped()) {
    std::string line = d.format();
    if (!reportedSkips_.contains(line) && hooks_.skipped) hooks_.skipped(d);
    skips.insert(std::move(line));
  }
  reportedSkips_ = std::move(skips);
  if (hooks_.triggered && version > 1) hooks_.triggered(endpointsOnly ? "endpoint" : "config");
  if (hooks_.queued && version > 1)
    hooks_.queued(std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count());
  server_.publish(std::move(push));
  std::lock_guard lock(mu_);
  version_ = version;
}

}  // namespace mesh::server
