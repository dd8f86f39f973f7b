#include "controlplane/server/push_loop.h"

#include "controlplane/server/affected_types.h"

#include <algorithm>

#include "controlplane/xds/endpoint_generator.h"
#include "controlplane/xds/xds_resource.h"
#include "core/log.h"

namespace mesh::server {
PushLoop::PushLoop(core::ConfigStore& store, AdsServer& server, PushLoopOptions options, PushLoopHooks hooks)
    : store_(store), server_(server), options_(std::move(options)), hooks_(std::move(hooks)) {}

PushLoop::~PushLoop() { stop(); }

Result<void> PushLoop::start() {
  auto sub = store_.watch([this](const core::WatchEvent& e) {
    std::lock_guard lock(mu_);
    noteChangeLocked(typesAffectedBy(e.item.key()),
                     e.item.key().group == "networking.istio.io" && e.item.key().kind == "WorkloadEntry");
  });
  if (!sub) return fail(sub.error().code, sub.error().message, sub.error().hint);
  subscription_ = std::move(*sub);
  auto t0 = std::chrono::steady_clock::now();
  if (auto listed = store_.list(); !listed) return fail(listed.error().code, listed.error().message);
  publish({}, t0, false);
  thread_ = std::thread([this] { run(); });
  return {};
}

void PushLoop::noteChangeLocked(std::set<std::string, std::less<>> types, bool workloadEntry) {
  auto now = std::chrono::steady_clock::now();
  if (!pending_) {
    firstEvent_ = now;
    affected_.clear();
    allTypes_ = false;
    workloadEntryChanged_ = false;
  }
  pending_ = true;
  if (types.empty()) allTypes_ = true;
  affected_.merge(types);
  workloadEntryChanged_ = workloadEntryChanged_ || workloadEntry;
  lastEvent_ = now;
  cv_.notify_one();
}

void PushLoop::requestPush(const std::set<std::string, std::less<>>& types) {
  std::lock_guard lock(mu_);
  noteChangeLocked(types, false);
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
    std::set<std::string, std::less<>> affected;
    if (!allTypes_) affected = affected_;
    auto since = firstEvent_;
    bool workloadEntryChanged = workloadEntryChanged_;
    pending_ = false;
    lock.unlock();
    publish(std::move(affected), since, workloadEntryChanged);
    lock.lock();
  }
}

void PushLoop::publish(std::set<std::string, std::less<>> affected, std::chrono::steady_clock::time_point since,
                       bool workloadEntryChanged) {
  auto listed = store_.list();
  if (!listed) return;  // keep the last good snapshot; the next change retries
  uint64_t version;
  {
    std::lock_guard lock(mu_);
    version = version_ + 1;
  }
  auto push = std::make_shared<PushContext>();
  push->generations = generations_ = ConfigGenerations::next(generations_.get(), *listed, version);
  std::vector<core::Resource> resources;
  resources.reserve(listed->size());
  for (auto& item : *listed) resources.push_back(std::move(item.resource));
  auto buildStarted = std::chrono::steady_clock::now();
  size_t count = resources.size();
  model::SnapshotOptions snapshotOptions = options_.snapshot;
  if (auto mesh = hooks_.meshConfig ? hooks_.meshConfig() : nullptr)
    snapshotOptions = model::withMeshConfig(std::move(snapshotOptions), std::move(mesh));
  if (hooks_.jwtKeys) snapshotOptions.jwtKeys = hooks_.jwtKeys();
  if (hooks_.snapshotBuilt) {
    auto first = model::ConfigSnapshot::build(resources, version, snapshotOptions);
    if (hooks_.snapshotBuilt(*first) && hooks_.jwtKeys) {
      snapshotOptions.jwtKeys = hooks_.jwtKeys();
      push->snapshot = model::ConfigSnapshot::build(std::move(resources), version, snapshotOptions);
    } else {
      push->snapshot = std::move(first);
    }
  } else {
    push->snapshot = model::ConfigSnapshot::build(std::move(resources), version, snapshotOptions);
  }
  log::debug("push", "snapshot {}: {} resources listed, validated and indexed in {:.1f} ms", version, count,
             std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - buildStarted).count());
  push->triggeredAt = since;
  // A DNS ServiceEntry carries its selected WorkloadEntries inline in its CDS cluster, so only
  // then can a WorkloadEntry change alter CDS; CDS at 1,000 services costs far more than EDS.
  if (workloadEntryChanged && !affected.empty() &&
      std::ranges::any_of(push->snapshot->registry().services(), [](const auto& svc) {
        return svc->resolution == model::Resolution::Dns || svc->resolution == model::Resolution::DnsRoundRobin;
      }))
    affected.insert(std::string(xds::type_url::kCluster));
  bool endpointsOnly = !affected.empty() && std::ranges::all_of(affected, [](const std::string& t) {
    return t == xds::type_url::kEndpoint || t == xds::type_url::kCluster;
  });
  // Only endpoints changed: EDS results of the previous push stay valid except for the hosts
  // whose endpoints differ, so the generator patches them instead of rebuilding every cluster.
  if (affected == std::set<std::string, std::less<>>{std::string(xds::type_url::kEndpoint)})
    if (auto previous = server_.current(); previous && previous->snapshot && previous->cache)
      push->cache->carryFrom(*previous->cache, xds::EndpointGenerator::kSetKeyPrefix,
                             push->snapshot->registry().hostsWithChangedEndpoints(previous->snapshot->registry()));
  push->affectedTypes = std::move(affected);
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
