// ClusterRuntime: the live state of one upstream cluster, shared by all worker threads and
// kept across config updates while the cluster exists: its hosts (active request counts),
// load balancer state, outlier detector and circuit-breaker counters. Host choice follows
// Envoy: priorities with the overprovisioning factor (1.4), panic mode below the healthy panic
// threshold, with locality_weighted_lb_config a locality by weight x availability, then the
// cluster's lb_policy. DNS clusters take their hosts from DnsRefresher (dns_refresher.h).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "proxy/dataplane/outlier_detector.h"
#include "proxy/dataplane/runtime_config.h"

namespace mesh::proxy::dataplane {

struct HostRuntime {
  explicit HostRuntime(Endpoint e) : endpoint(std::move(e)), key(endpoint.key()) {}
  Endpoint endpoint;
  std::string key;
  std::atomic<uint32_t> activeRequests{0};
};

struct LbContext {
  std::optional<uint64_t> hash;            // from the route's hash_policy
  std::vector<std::string> avoid;          // hosts tried already (previous_hosts predicate)
  std::string originalDst;                 // "ip:port" for ORIGINAL_DST clusters
};

// 64-bit FNV-1a with a murmur finaliser: stable across runs, so ring positions are too.
uint64_t stableHash(std::string_view data);

class LoadBalancer {
 public:
  // Picks among `hosts` (non-empty). Not thread-safe: ClusterRuntime serialises calls.
  size_t pick(const Cluster& cluster, const std::vector<std::shared_ptr<HostRuntime>>& hosts,
              const LbContext& ctx, std::mt19937_64& rng);
  // Envoy's locality weighted choice within one priority: weight x min(100%, factor x healthy
  // share), spread by smooth weighted round robin. None when no locality has weight left.
  std::optional<std::string> pickLocality(uint32_t priority, const std::vector<std::shared_ptr<HostRuntime>>& all,
                           const std::vector<std::shared_ptr<HostRuntime>>& healthy, uint32_t overprovisioningFactor);

 private:
  size_t pickWeightedRandom(const std::vector<std::shared_ptr<HostRuntime>>& hosts, std::mt19937_64& rng);
  size_t pickRoundRobin(const std::vector<std::shared_ptr<HostRuntime>>& hosts);
  size_t pickLeastRequest(const Cluster& c, const std::vector<std::shared_ptr<HostRuntime>>& hosts,
                          std::mt19937_64& rng);
  void buildRing(const Cluster& c, const std::vector<std::shared_ptr<HostRuntime>>& hosts);
  void buildMaglev(const std::vector<std::shared_ptr<HostRuntime>>& hosts);

  std::map<std::string, int64_t, std::less<>> rrCurrent_;  // smooth weighted round robin
  std::map<std::string, int64_t, std::less<>> localityCurrent_;  // the same, per priority and locality
  uint64_t tableSignature_ = 0;
  std::vector<std::pair<uint64_t, std::string>> ring_;     // sorted by hash
  std::vector<std::string> maglev_;
};

class ClusterRuntime : public std::enable_shared_from_this<ClusterRuntime> {
 public:
  explicit ClusterRuntime(std::shared_ptr<const Cluster> config);
  // A new version of the same cluster: hosts with the same address keep their state.
  void update(std::shared_ptr<const Cluster> config);
  std::shared_ptr<const Cluster> config() const;

  // nullptr: no healthy upstream.
  std::shared_ptr<HostRuntime> chooseHost(const LbContext& ctx);
  struct HostStatus {
    Endpoint endpoint;
    uint32_t activeRequests = 0;
    bool ejected = false;
  };
  // For the admin endpoint's /clusters.
  std::vector<HostStatus> hostStatuses();

  // DNS clusters: the names of the configured endpoints still to resolve or to refresh, and
  // what one resolved to (called by DnsRefresher; an empty list keeps the last answer, as
  // Envoy keeps its hosts when a refresh fails). Until its first answer a name is connected to
  // by name (resolved at connect time).
  std::vector<std::string> dnsNames() const;
  bool hasUnresolvedNames() const;
  void setResolved(const std::string& name, std::vector<std::string> addresses);

  // Feeds outlier detection; status as OutlierDetector::onResult.
  void reportResult(const HostRuntime& host, unsigned status);

  // Circuit-breaker counters (Envoy's cluster-wide resource manager).
  std::atomic<uint32_t> activeConnections{0};
  std::atomic<uint32_t> pendingRequests{0};
  std::atomic<uint32_t> activeRequests{0};
  std::atomic<uint32_t> activeRetries{0};
  std::atomic<uint64_t> overflowCount{0};

 private:
  void rebuildHosts();  // hosts_ from config_ and resolved_; mu_ held
  mutable std::mutex mu_;
  std::shared_ptr<const Cluster> config_;
  std::vector<std::shared_ptr<HostRuntime>> hosts_;
  std::map<std::string, std::vector<std::string>, std::less<>> resolved_;  // DNS name -> addresses
  OutlierDetector outlier_;
  LoadBalancer lb_;
  std::mt19937_64 rng_{std::random_device{}()};
  struct PickScratch {  // chooseHost's working sets, kept for their capacity
    std::vector<std::vector<std::shared_ptr<HostRuntime>>> all, healthy;
    std::vector<double> load;
    std::vector<std::shared_ptr<HostRuntime>> inLocality, filtered;
  } pick_;
};

// Reserves one unit of a circuit-breaker counter below `limit`; release on destruction.
class ResourceGuard {
 public:
  ResourceGuard() = default;
  static std::optional<ResourceGuard> tryAcquire(std::atomic<uint32_t>& counter, uint32_t limit);
  ResourceGuard(ResourceGuard&& o) noexcept : counter_(o.counter_) { o.counter_ = nullptr; }
  ResourceGuard& operator=(ResourceGuard&& o) noexcept;
  ~ResourceGuard() { release(); }
  void release();

 private:
  explicit ResourceGuard(std::atomic<uint32_t>* c) : counter_(c) {}
  std::atomic<uint32_t>* counter_ = nullptr;
};

}  // namespace mesh::proxy::dataplane
