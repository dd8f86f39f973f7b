// DnsRefresher: resolves the endpoint names of STRICT_DNS and LOGICAL_DNS clusters on their
// dns_refresh_rate (dns_lookup_family respected) and hands the addresses to each
// ClusterRuntime, so workers connect to addresses and never wait on DNS. One resolver thread,
// started on the first watch(); the Engine owns it, apply() calls watch() for DNS clusters.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "proxy/dataplane/cluster_runtime.h"

namespace mesh::proxy::dataplane {

// Addresses (text) `name` resolves to in `family`, at most kMaxDnsAddresses, in the
// resolver's order; blocking (getaddrinfo).
inline constexpr size_t kMaxDnsAddresses = 64;
Result<std::vector<std::string>> resolveName(const std::string& name, DnsLookupFamily family);

class DnsRefresher {
 public:
  using Resolver = std::function<Result<std::vector<std::string>>(const std::string&, DnsLookupFamily)>;
  explicit DnsRefresher(Resolver resolver = resolveName);
  ~DnsRefresher();
  DnsRefresher(const DnsRefresher&) = delete;
  DnsRefresher& operator=(const DnsRefresher&) = delete;

  // Keeps `runtime` refreshed while it lives. A runtime seen before is resolved again at once
  // only when its config has names without an answer yet (a new endpoint); else on schedule.
  void watch(const std::shared_ptr<ClusterRuntime>& runtime);
  // Ends the thread (waiting for a lookup in progress); watch() does nothing afterwards.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Watched {
    std::weak_ptr<ClusterRuntime> runtime;
    Clock::time_point next;
  };
  void run();

  static constexpr size_t kMaxWatched = 4096;  // clusters; past it new ones resolve at connect time
  Resolver resolver_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Watched> watched_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mesh::proxy::dataplane
