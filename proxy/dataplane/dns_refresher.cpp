// DNS refresh for STRICT_DNS / LOGICAL_DNS clusters: see dns_refresher.h.
#include "proxy/dataplane/dns_refresher.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/log.h"

namespace mesh::proxy::dataplane {

namespace {

std::vector<std::string> lookup(const std::string& name, int family, std::string& error) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  std::vector<std::string> out;
  if (rc != 0) {
    error = gai_strerror(rc);
    return out;
  }
  for (addrinfo* ai = res; ai != nullptr && out.size() < kMaxDnsAddresses; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = nullptr;
    if (ai->ai_family == AF_INET) addr = &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr;
    if (ai->ai_family == AF_INET6) addr = &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    if (addr == nullptr || inet_ntop(ai->ai_family, addr, text, sizeof(text)) == nullptr) continue;
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  ::freeaddrinfo(res);
  return out;
}

}  // namespace

// Envoy's families: AUTO prefers IPv6 and falls back to IPv4, V4_PREFERRED the reverse, ALL
// takes both (IPv4 first here), the _ONLY ones one family.
Result<std::vector<std::string>> resolveName(const std::string& name, DnsLookupFamily family) {
  std::string error;
  std::vector<std::string> out;
  switch (family) {
    case DnsLookupFamily::V4Only: out = lookup(name, AF_INET, error); break;
    case DnsLookupFamily::V6Only: out = lookup(name, AF_INET6, error); break;
    case DnsLookupFamily::Auto:
      out = lookup(name, AF_INET6, error);
      if (out.empty()) out = lookup(name, AF_INET, error);
      break;
    case DnsLookupFamily::V4Preferred:
      out = lookup(name, AF_INET, error);
      if (out.empty()) out = lookup(name, AF_INET6, error);
      break;
    case DnsLookupFamily::All: {
      out = lookup(name, AF_INET, error);
      for (auto& a : lookup(name, AF_INET6, error)) {
        if (out.size() < kMaxDnsAddresses) out.push_back(std::move(a));
      }
      break;
    }
  }
  if (out.empty()) {
    return fail(ErrorCode::Unavailable, "resolving " + name + ": " + (error.empty() ? "no address" : error));
  }
  return out;
}

DnsRefresher::DnsRefresher(Resolver resolver) : resolver_(std::move(resolver)) {}

DnsRefresher::~DnsRefresher() { stop(); }

void DnsRefresher::watch(const std::shared_ptr<ClusterRuntime>& runtime) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  auto now = Clock::now();
  bool urgent = runtime->hasUnresolvedNames();
  auto it = std::find_if(watched_.begin(), watched_.end(),
                         [&](const Watched& w) { return w.runtime.lock() == runtime; });
  if (it != watched_.end()) {
    if (!urgent) return;
    it->next = now;
  } else {
    std::erase_if(watched_, [](const Watched& w) { return w.runtime.expired(); });
    if (watched_.size() >= kMaxWatched) return;
    watched_.push_back({runtime, now});
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  wake_.notify_one();
}

void DnsRefresher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void DnsRefresher::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    std::erase_if(watched_, [](const Watched& w) { return w.runtime.expired(); });
    // The runtimes due now; each is rescheduled before its names are resolved.
    std::vector<std::shared_ptr<ClusterRuntime>> due;
    auto earliest = Clock::time_point::max();
    for (auto& w : watched_) {
      if (w.next <= now) {
        auto rt = w.runtime.lock();
        if (!rt) continue;
        w.next = now + rt->config()->dnsRefreshRate;
        due.push_back(std::move(rt));
      }
      earliest = std::min(earliest, w.next);
    }
    if (due.empty()) {
      if (earliest == Clock::time_point::max()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, earliest);
      }
      continue;
    }
    lock.unlock();
    for (const auto& rt : due) {
      auto family = rt->config()->dnsLookupFamily;
      for (const auto& name : rt->dnsNames()) {
        auto addresses = resolver_(name, family);
        if (addresses) {
          rt->setResolved(name, std::move(*addresses));
        } else {
          // Debug level: a name that keeps failing would log on every refresh.
          log::debug("dns", "cluster {}: {} (keeping the last addresses)", rt->config()->name,
                     addresses.error().message);
        }
      }
    }
    due.clear();  // runtimes are not kept alive past their lookups
    lock.lock();
  }
}

}  // namespace mesh::proxy::dataplane
