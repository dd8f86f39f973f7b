// Host selection and live cluster state: see cluster_runtime.h.
#include "proxy/dataplane/cluster_runtime.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

namespace mesh::proxy::dataplane {

uint64_t stableHash(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

namespace {

uint64_t signature(const std::vector<std::shared_ptr<HostRuntime>>& hosts) {
  uint64_t s = hosts.size();
  for (const auto& h : hosts) s = s * 31 + stableHash(h->key) + h->endpoint.weight;
  return s;
}

size_t indexOf(const std::vector<std::shared_ptr<HostRuntime>>& hosts, const std::string& key) {
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i]->key == key) return i;
  }
  return 0;
}

constexpr uint64_t kMaglevTableSize = 65537;  // Envoy's default, a prime

bool isIpLiteral(const std::string& address) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 || inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

bool isDns(const Cluster& c) { return c.type == ClusterType::StrictDns || c.type == ClusterType::LogicalDns; }

// Envoy ignores locality weights for the consistent-hash balancers.
bool localityWeighted(const Cluster& c) {
  return c.localityWeightedLb && c.lbPolicy != LbPolicy::RingHash && c.lbPolicy != LbPolicy::Maglev;
}

}  // namespace

size_t LoadBalancer::pickWeightedRandom(const std::vector<std::shared_ptr<HostRuntime>>& hosts,
                                        std::mt19937_64& rng) {
  uint64_t total = 0;
  for (const auto& h : hosts) total += h->endpoint.weight;
  uint64_t point = rng() % total;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (point < hosts[i]->endpoint.weight) return i;
    point -= hosts[i]->endpoint.weight;
  }
  return hosts.size() - 1;
}

// nginx's smooth weighted round robin: each pick adds every weight to its host's current
// value, takes the largest and subtracts the total from it. Even spread, exact proportions.
size_t LoadBalancer::pickRoundRobin(const std::vector<std::shared_ptr<HostRuntime>>& hosts) {
  int64_t total = 0;
  size_t best = 0;
  int64_t bestValue = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    int64_t w = hosts[i]->endpoint.weight;
    total += w;
    int64_t& cur = rrCurrent_[hosts[i]->key];
    cur += w;
    if (i == 0 || cur > bestValue) {
      best = i;
      bestValue = cur;
    }
  }
  rrCurrent_[hosts[best]->key] -= total;
  if (rrCurrent_.size() > hosts.size() * 2 + 16) rrCurrent_.clear();  // forget removed hosts
  return best;
}

// Envoy's least request: choice_count random hosts, the one with the fewest active requests
// relative to its weight wins.
size_t LoadBalancer::pickLeastRequest(const Cluster& c, const std::vector<std::shared_ptr<HostRuntime>>& hosts,
                                      std::mt19937_64& rng) {
  size_t best = rng() % hosts.size();
  for (uint32_t i = 1; i < c.leastRequestChoiceCount; ++i) {
    size_t other = rng() % hosts.size();
    double a = (hosts[best]->activeRequests.load() + 1.0) / hosts[best]->endpoint.weight;
    double b = (hosts[other]->activeRequests.load() + 1.0) / hosts[other]->endpoint.weight;
    if (b < a) best = other;
  }
  return best;
}

void LoadBalancer::buildRing(const Cluster& c, const std::vector<std::shared_ptr<HostRuntime>>& hosts) {
  ring_.clear();
  uint64_t totalWeight = 0;
  for (const auto& h : hosts) totalWeight += h->endpoint.weight;
  // Envoy scales the ring so the lightest host gets at least one entry, within min..max.
  uint64_t minWeight = UINT64_MAX;
  for (const auto& h : hosts) minWeight = std::min<uint64_t>(minWeight, h->endpoint.weight);
  double scale = std::min<double>(
      std::ceil(static_cast<double>(c.ringHashMinSize) * minWeight / totalWeight) * totalWeight / minWeight,
      static_cast<double>(c.ringHashMaxSize));
  for (const auto& h : hosts) {
    auto entries = static_cast<uint64_t>(std::ceil(scale * h->endpoint.weight / totalWeight));
    for (uint64_t i = 0; i < entries; ++i) {
      ring_.emplace_back(stableHash(h->key + "_" + std::to_string(i)), h->key);
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

// Maglev (Eisenbud et al. 2016): each host fills table slots from its own permutation, in
// turns proportional to its weight, until the table is full.
void LoadBalancer::buildMaglev(const std::vector<std::shared_ptr<HostRuntime>>& hosts) {
  maglev_.assign(kMaglevTableSize, std::string());
  std::vector<uint64_t> offset(hosts.size()), skip(hosts.size()), next(hosts.size(), 0);
  uint32_t maxWeight = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    offset[i] = stableHash(hosts[i]->key) % kMaglevTableSize;
    skip[i] = stableHash(hosts[i]->key + "#skip") % (kMaglevTableSize - 1) + 1;
    maxWeight = std::max(maxWeight, hosts[i]->endpoint.weight);
  }
  std::vector<double> credit(hosts.size(), 0);
  uint64_t filled = 0;
  while (filled < kMaglevTableSize) {
    for (size_t i = 0; i < hosts.size() && filled < kMaglevTableSize; ++i) {
      credit[i] += static_cast<double>(hosts[i]->endpoint.weight) / maxWeight;
      while (credit[i] >= 1.0 && filled < kMaglevTableSize) {
        credit[i] -= 1.0;
        uint64_t slot = (offset[i] + next[i] * skip[i]) % kMaglevTableSize;
        while (!maglev_[slot].empty()) {
          ++next[i];
          slot = (offset[i] + next[i] * skip[i]) % kMaglevTableSize;
        }
        maglev_[slot] = hosts[i]->key;
        ++next[i];
        ++filled;
      }
    }
  }
}

std::optional<std::string> LoadBalancer::pickLocality(uint32_t priority,
                                                      const std::vector<std::shared_ptr<HostRuntime>>& all,
                                                      const std::vector<std::shared_ptr<HostRuntime>>& healthy,
                                                      uint32_t overprovisioningFactor) {
  struct Counts {
    uint64_t total = 0, healthy = 0, weight = 0;
  };
  std::map<std::string, Counts> localities;
  for (const auto& h : all) {
    auto& c = localities[h->endpoint.locality];
    ++c.total;
    c.weight = h->endpoint.localityWeight;
  }
  for (const auto& h : healthy) ++localities[h->endpoint.locality].healthy;
  std::string prefix = std::to_string(priority) + "|";
  int64_t total = 0, bestValue = 0;
  std::string best;
  bool any = false;
  for (const auto& [locality, c] : localities) {
    // availability in percent, capped at 100; effective weight = locality weight x availability
    uint64_t availability = std::min<uint64_t>(100, overprovisioningFactor * c.healthy / c.total);
    auto effective = static_cast<int64_t>(c.weight * availability);
    if (effective == 0) continue;
    total += effective;
    int64_t& cur = localityCurrent_[prefix + locality];
    cur += effective;
    if (!any || cur > bestValue) {
      best = locality;
      bestValue = cur;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  localityCurrent_[prefix + best] -= total;
  if (localityCurrent_.size() > localities.size() * 8 + 64) localityCurrent_.clear();  // forget old ones
  return best;
}

size_t LoadBalancer::pick(const Cluster& cluster, const std::vector<std::shared_ptr<HostRuntime>>& hosts,
                          const LbContext& ctx, std::mt19937_64& rng) {
  if (hosts.size() == 1) return 0;
  switch (cluster.lbPolicy) {
    case LbPolicy::RoundRobin: return pickRoundRobin(hosts);
    case LbPolicy::LeastRequest: return pickLeastRequest(cluster, hosts, rng);
    case LbPolicy::Random: return pickWeightedRandom(hosts, rng);
    case LbPolicy::RingHash: {
      uint64_t sig = signature(hosts) ^ 0x5249u;
      if (sig != tableSignature_ || ring_.empty()) {
        buildRing(cluster, hosts);
        tableSignature_ = sig;
      }
      uint64_t h = ctx.hash ? *ctx.hash : rng();
      auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(h, std::string()));
      if (it == ring_.end()) it = ring_.begin();
      return indexOf(hosts, it->second);
    }
    case LbPolicy::Maglev: {
      uint64_t sig = signature(hosts) ^ 0x4d41u;
      if (sig != tableSignature_ || maglev_.empty()) {
        buildMaglev(hosts);
        tableSignature_ = sig;
      }
      uint64_t h = ctx.hash ? *ctx.hash : rng();
      return indexOf(hosts, maglev_[h % kMaglevTableSize]);
    }
  }
  return 0;
}

ClusterRuntime::ClusterRuntime(std::shared_ptr<const Cluster> config)
    : outlier_(config->outlierDetection.value_or(OutlierDetectionConfig{})) {
  update(std::move(config));
}

void ClusterRuntime::update(std::shared_ptr<const Cluster> config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  outlier_.setConfig(config_->outlierDetection.value_or(OutlierDetectionConfig{}));
  rebuildHosts();
}

void ClusterRuntime::rebuildHosts() {
  // The configured endpoints, DNS names replaced by what they resolved to: every address for
  // STRICT_DNS, the first for LOGICAL_DNS (Envoy's single logical host).
  std::vector<Endpoint> endpoints;
  for (const auto& e : config_->endpoints) {
    auto it = isDns(*config_) ? resolved_.find(e.address) : resolved_.end();
    if (it == resolved_.end() || it->second.empty()) {
      endpoints.push_back(e);
      continue;
    }
    size_t n = config_->type == ClusterType::LogicalDns ? 1 : it->second.size();
    for (size_t i = 0; i < n; ++i) {
      Endpoint resolved = e;
      resolved.hostname = e.address;
      resolved.address = it->second[i];
      endpoints.push_back(std::move(resolved));
    }
  }
  std::vector<std::shared_ptr<HostRuntime>> next;
  std::vector<std::string> keys;
  for (auto& e : endpoints) {
    std::shared_ptr<HostRuntime> h;
    std::string key = e.key();
    for (const auto& old : hosts_) {
      if (old->key == key) h = old;
    }
    // Weight, health, locality and priority come from the new config; counters stay with the host.
    bool same = h && h->endpoint.weight == e.weight && h->endpoint.health == e.health &&
                h->endpoint.priority == e.priority && h->endpoint.requiresTls == e.requiresTls &&
                h->endpoint.locality == e.locality && h->endpoint.localityWeight == e.localityWeight &&
                h->endpoint.hostname == e.hostname;
    next.push_back(same ? h : std::make_shared<HostRuntime>(std::move(e)));
    keys.push_back(std::move(key));
  }
  hosts_ = std::move(next);
  outlier_.setHosts(keys);
}

std::vector<std::string> ClusterRuntime::dnsNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  if (!isDns(*config_)) return out;
  for (const auto& e : config_->endpoints) {
    if (!isIpLiteral(e.address) && std::find(out.begin(), out.end(), e.address) == out.end()) {
      out.push_back(e.address);
    }
  }
  return out;
}

bool ClusterRuntime::hasUnresolvedNames() const {
  auto names = dnsNames();
  std::lock_guard lock(mu_);
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return !resolved_.contains(n); });
}

void ClusterRuntime::setResolved(const std::string& name, std::vector<std::string> addresses) {
  if (addresses.empty()) return;
  std::lock_guard lock(mu_);
  auto& slot = resolved_[name];
  if (slot == addresses) return;
  slot = std::move(addresses);
  // Forget names the config no longer has.
  std::erase_if(resolved_, [&](const auto& entry) {
    return std::none_of(config_->endpoints.begin(), config_->endpoints.end(),
                        [&](const Endpoint& e) { return e.address == entry.first; });
  });
  rebuildHosts();
}

std::shared_ptr<const Cluster> ClusterRuntime::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::shared_ptr<HostRuntime> ClusterRuntime::chooseHost(const LbContext& ctx) {
  std::lock_guard lock(mu_);
  if (config_->type == ClusterType::OriginalDst) {
    size_t colon = ctx.originalDst.rfind(':');
    if (colon == std::string::npos) return nullptr;
    Endpoint e;
    e.address = ctx.originalDst.substr(0, colon);
    if (e.address.size() > 2 && e.address.front() == '[') e.address = e.address.substr(1, e.address.size() - 2);
    e.port = static_cast<uint32_t>(std::strtoul(ctx.originalDst.c_str() + colon + 1, nullptr, 10));
    if (e.port == 0 || e.port > 65535) return nullptr;
    return std::make_shared<HostRuntime>(e);
  }
  if (hosts_.empty()) return nullptr;
  // One host is always the choice: healthy, or chosen in panic mode when it is not.
  if (hosts_.size() == 1) return hosts_.front();
  auto now = OutlierDetector::Clock::now();
  bool detect = config_->outlierDetection.has_value();
  // Per priority: all hosts, healthy hosts (excluding ejected ones). The vectors are members
  // reused under mu_, so a warm pick allocates nothing.
  uint32_t maxPriority = 0;
  for (const auto& h : hosts_) maxPriority = std::max(maxPriority, h->endpoint.priority);
  auto& all = pick_.all;
  auto& healthy = pick_.healthy;
  for (auto* levels : {&all, &healthy}) {
    levels->resize(maxPriority + 1);
    for (auto& level : *levels) level.clear();
  }
  for (const auto& h : hosts_) {
    all[h->endpoint.priority].push_back(h);
    bool ok = h->endpoint.health != HealthStatus::Unhealthy && !(detect && outlier_.isEjected(h->key, now));
    if (ok) healthy[h->endpoint.priority].push_back(h);
  }
  // Envoy's priority load: each level takes min(100, factor × healthy%) of what is left.
  auto& load = pick_.load;
  load.assign(all.size(), 0);
  double remaining = 100, totalHealth = 0;
  double factor = config_->overprovisioningFactor;
  for (size_t p = 0; p < all.size(); ++p) {
    if (all[p].empty()) continue;
    double health = std::min(100.0, factor * healthy[p].size() / all[p].size());
    totalHealth += health;
    load[p] = std::min(remaining, health);
    remaining -= load[p];
  }
  size_t priority = 0;
  const std::vector<std::shared_ptr<HostRuntime>>* candidates = nullptr;
  if (totalHealth < config_->healthyPanicThresholdPercent || totalHealth == 0) {
    // Panic: Envoy balances across every host of the first non-empty level, healthy or not.
    while (all[priority].empty()) ++priority;
    candidates = &all[priority];
  } else {
    double roll = std::uniform_real_distribution<double>(0, 100 - remaining)(rng_);
    for (size_t p = 0; p < load.size(); ++p) {
      if (load[p] <= 0) continue;
      priority = p;
      if (roll < load[p]) break;
      roll -= load[p];
    }
    candidates = &healthy[priority];
  }
  auto& inLocality = pick_.inLocality;
  inLocality.clear();
  if (localityWeighted(*config_) && candidates == &healthy[priority]) {
    // Failover across localities is by priority (as Istio emits it); within one, by weight.
    // No locality with weight left: the priority's healthy hosts, as Envoy falls back to.
    auto locality = lb_.pickLocality(static_cast<uint32_t>(priority), all[priority], healthy[priority],
                                     config_->overprovisioningFactor);
    if (locality) {
      for (const auto& h : *candidates) {
        if (h->endpoint.locality == *locality) inLocality.push_back(h);
      }
      if (!inLocality.empty()) candidates = &inLocality;
    }
  }
  auto& filtered = pick_.filtered;
  filtered.clear();
  if (!ctx.avoid.empty() && candidates->size() > 1) {
    for (const auto& h : *candidates) {
      if (std::find(ctx.avoid.begin(), ctx.avoid.end(), h->key) == ctx.avoid.end()) filtered.push_back(h);
    }
    if (!filtered.empty()) candidates = &filtered;
  }
  if (candidates->empty()) return nullptr;
  return (*candidates)[lb_.pick(*config_, *candidates, ctx, rng_)];
}

std::vector<ClusterRuntime::HostStatus> ClusterRuntime::hostStatuses() {
  std::lock_guard lock(mu_);
  std::vector<HostStatus> out;
  auto now = OutlierDetector::Clock::now();
  for (const auto& h : hosts_) {
    HostStatus s;
    s.endpoint = h->endpoint;
    s.activeRequests = h->activeRequests.load();
    s.ejected = config_->outlierDetection.has_value() && outlier_.isEjected(h->key, now);
    out.push_back(std::move(s));
  }
  return out;
}

void ClusterRuntime::reportResult(const HostRuntime& host, unsigned status) {
  std::shared_ptr<const Cluster> cfg = config();
  if (!cfg->outlierDetection) return;
  uint32_t roll;
  {
    std::lock_guard lock(mu_);
    roll = static_cast<uint32_t>(rng_() % 100);
  }
  outlier_.onResult(host.key, status, OutlierDetector::Clock::now(), roll);
}

std::optional<ResourceGuard> ResourceGuard::tryAcquire(std::atomic<uint32_t>& counter, uint32_t limit) {
  uint32_t cur = counter.load();
  while (cur < limit) {
    if (counter.compare_exchange_weak(cur, cur + 1)) return ResourceGuard(&counter);
  }
  return std::nullopt;
}

ResourceGuard& ResourceGuard::operator=(ResourceGuard&& o) noexcept {
  if (this != &o) {
    release();
    counter_ = o.counter_;
    o.counter_ = nullptr;
  }
  return *this;
}

void ResourceGuard::release() {
  if (counter_ != nullptr) counter_->fetch_sub(1);
  counter_ = nullptr;
}

}  // namespace mesh::proxy::dataplane
