// SyncTracker: what all simulated proxies together have accepted, and the JSON lines the
// benchmark driver reads on stdout. Per xDS type it counts proxies by the version they last
// ACKed; when the lowest of those rises (every proxy now holds version V or newer) it prints
// `type_synced`. Times are CLOCK_REALTIME milliseconds so the driver can subtract the time it
// wrote a config file. Thread-safe: every stream's callbacks report here.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "bench/xds_load/wire.h"

namespace mesh::bench {

double nowMs();  // CLOCK_REALTIME, milliseconds with microsecond resolution

// One JSON object per line on stdout, flushed at once: the driver reacts to each line.
void emit(const std::string& jsonObject);

class SyncTracker {
 public:
  explicit SyncTracker(int proxies);

  void streamOpened();
  void streamClosed(int proxy, int code, const std::string& message);
  void stopping();  // streams closed from now on were closed by us: not reported
  void subscribed(XdsType type);
  // A proxy accepted and ACKed a response of `type`, moving from `from` to `to`.
  void accepted(XdsType type, uint64_t from, uint64_t to, size_t bytes, size_t resources);
  void decodeFailed(int proxy, size_t bytes);
  void proxyReady();

  // The whole state as one `status` event: per type, proxies by version.
  std::string status();
  std::string progress();  // a `progress` event: streams open, proxies ready
  bool initialSyncDone();

 private:
  struct PerType {
    int subscribed = 0;
    std::map<uint64_t, int> byVersion;  // version → proxies that ACKed it last (0: none yet)
    uint64_t syncedVersion = 0;         // last version reported by `type_synced`
    uint64_t newestSeen = 0;
    uint64_t responses = 0, bytes = 0, resources = 0;
    double lastResponseMs = 0;
  };
  uint64_t minVersion(const PerType& t) const;
  void checkSynced(double t);  // mu_ held

  std::mutex mu_;
  const int proxies_;
  const double startMs_;
  int open_ = 0, closed_ = 0, ready_ = 0, decodeErrors_ = 0;
  bool initialDone_ = false;
  bool stopping_ = false;
  uint64_t overallSynced_ = 0;
  std::array<PerType, kTypeCount> types_;
};

}  // namespace mesh::bench
