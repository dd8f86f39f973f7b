#include "bench/xds_load/sync_tracker.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace mesh::bench {
namespace {

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
    else out += c;
  }
  return out + "\"";
}

}  // namespace

double nowMs() {
  auto t = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(t).count()) / 1000.0;
}

void emit(const std::string& jsonObject) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(jsonObject.data(), 1, jsonObject.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

SyncTracker::SyncTracker(int proxies) : proxies_(proxies), startMs_(nowMs()) {}

void SyncTracker::streamOpened() {
  std::lock_guard lock(mu_);
  ++open_;
}

void SyncTracker::stopping() {
  std::lock_guard lock(mu_);
  stopping_ = true;
}

void SyncTracker::streamClosed(int proxy, int code, const std::string& message) {
  {
    std::lock_guard lock(mu_);
    --open_;
    ++closed_;
    if (stopping_) return;
  }
  emit(fmt::format(R"({{"event":"stream_closed","proxy":{},"code":{},"message":{},"t_ms":{:.3f}}})", proxy, code,
                   jsonString(message), nowMs()));
}

void SyncTracker::subscribed(XdsType type) {
  std::lock_guard lock(mu_);
  PerType& t = types_[static_cast<size_t>(type)];
  ++t.subscribed;
  ++t.byVersion[0];
}

void SyncTracker::decodeFailed(int proxy, size_t bytes) {
  {
    std::lock_guard lock(mu_);
    ++decodeErrors_;
  }
  emit(fmt::format(R"({{"event":"decode_error","proxy":{},"bytes":{},"t_ms":{:.3f}}})", proxy, bytes, nowMs()));
}

uint64_t SyncTracker::minVersion(const PerType& t) const { return t.byVersion.empty() ? 0 : t.byVersion.begin()->first; }

void SyncTracker::accepted(XdsType type, uint64_t from, uint64_t to, size_t bytes, size_t resources) {
  double now = nowMs();
  std::lock_guard lock(mu_);
  PerType& t = types_[static_cast<size_t>(type)];
  ++t.responses;
  t.bytes += bytes;
  t.resources += resources;
  t.lastResponseMs = now;
  if (from != to) {
    if (auto it = t.byVersion.find(from); it != t.byVersion.end() && --it->second == 0) t.byVersion.erase(it);
    ++t.byVersion[to];
  }
  if (!initialDone_) return;
  if (to > t.newestSeen) {
    t.newestSeen = to;
    emit(fmt::format(R"({{"event":"first","type":"{}","version":{},"t_ms":{:.3f}}})", shortName(type), to, now));
  }
  checkSynced(now);
}

void SyncTracker::checkSynced(double now) {
  uint64_t overall = UINT64_MAX;
  for (size_t i = 0; i < types_.size(); ++i) {
    PerType& t = types_[i];
    if (t.subscribed == 0) continue;
    uint64_t v = minVersion(t);
    overall = std::min(overall, v);
    if (v > t.syncedVersion) {
      t.syncedVersion = v;
      emit(fmt::format(R"({{"event":"type_synced","type":"{}","version":{},"proxies":{},"t_ms":{:.3f}}})",
                       shortName(static_cast<XdsType>(i)), v, t.subscribed, now));
    }
  }
  if (overall != UINT64_MAX && overall > overallSynced_) {
    overallSynced_ = overall;
    emit(fmt::format(R"({{"event":"synced","version":{},"proxies":{},"t_ms":{:.3f},"elapsed_ms":{:.3f}}})", overall,
                     proxies_, now, now - startMs_));
  }
}

void SyncTracker::proxyReady() {
  double now = nowMs();
  std::lock_guard lock(mu_);
  ++ready_;
  if (initialDone_ || ready_ < proxies_) return;
  initialDone_ = true;
  std::string types;
  for (size_t i = 0; i < types_.size(); ++i) {
    const PerType& t = types_[i];
    if (t.subscribed == 0) continue;
    types += fmt::format(R"({}"{}":{{"proxies":{},"version":{},"bytes":{},"resources":{}}})", types.empty() ? "" : ",",
                         shortName(static_cast<XdsType>(i)), t.subscribed, minVersion(t), t.bytes, t.resources);
  }
  emit(fmt::format(R"({{"event":"initial_sync","proxies":{},"t_ms":{:.3f},"elapsed_ms":{:.3f},"cpu_s":{:.3f},"types":{{{}}}}})",
                   proxies_, now, now - startMs_, cpuSeconds(), types));
  for (PerType& t : types_) t.newestSeen = t.byVersion.empty() ? 0 : t.byVersion.rbegin()->first;
  checkSynced(now);
}

std::string SyncTracker::progress() {
  std::lock_guard lock(mu_);
  return fmt::format(R"({{"event":"progress","open":{},"closed":{},"ready":{},"proxies":{},"t_ms":{:.3f},"cpu_s":{:.3f}}})",
                     open_, closed_, ready_, proxies_, nowMs(), cpuSeconds());
}

bool SyncTracker::initialSyncDone() {
  std::lock_guard lock(mu_);
  return initialDone_;
}

std::string SyncTracker::status() {
  double now = nowMs();
  std::lock_guard lock(mu_);
  std::string types;
  for (size_t i = 0; i < types_.size(); ++i) {
    const PerType& t = types_[i];
    if (t.subscribed == 0) continue;
    std::string versions;
    for (const auto& [v, n] : t.byVersion) versions += fmt::format(R"({}"{}":{})", versions.empty() ? "" : ",", v, n);
    types += fmt::format(
        R"({}"{}":{{"proxies":{},"by_version":{{{}}},"synced_version":{},"responses":{},"bytes":{},"resources":{},"last_response_ms":{:.3f}}})",
        types.empty() ? "" : ",", shortName(static_cast<XdsType>(i)), t.subscribed, versions, t.syncedVersion,
        t.responses, t.bytes, t.resources, t.lastResponseMs);
  }
  return fmt::format(
      R"({{"event":"status","t_ms":{:.3f},"open":{},"closed":{},"ready":{},"proxies":{},"decode_errors":{},"initial_sync":{},"cpu_s":{:.3f},"types":{{{}}}}})",
      now, open_, closed_, ready_, proxies_, decodeErrors_, initialDone_, cpuSeconds(), types);
}

}  // namespace mesh::bench
