#include "proxy/security/certificate_manager.h"

#include <fmt/chrono.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/log.h"

namespace mesh::proxy::security {
namespace {

double uniform(double low, double high) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(low, high)(rng);
}

}  // namespace

CertificateManager::CertificateManager(CertificateManagerOptions options)
    : options_(std::move(options)), client_(options_.client) {}

CertificateManager::~CertificateManager() { stop(); }

void CertificateManager::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void CertificateManager::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const WorkloadCertificate> CertificateManager::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void CertificateManager::onChange(ChangeCallback callback) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::move(callback));
}

void CertificateManager::renewNow() {
  {
    std::lock_guard lock(mu_);
    renewRequested_ = true;
  }
  changed_.notify_all();
}

bool CertificateManager::waitForCertificate(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return current_ != nullptr; });
}

std::string CertificateManager::lastError() const {
  std::lock_guard lock(mu_);
  return lastError_;
}

std::chrono::system_clock::time_point CertificateManager::renewalTime(const WorkloadCertificate& cert) {
  double fraction = options_.renewFraction + uniform(-options_.renewJitter, options_.renewJitter);
  fraction = std::clamp(fraction, 0.05, 0.95);
  auto lifetime = cert.expiry - cert.issuedAt;
  return cert.issuedAt + std::chrono::duration_cast<std::chrono::system_clock::duration>(lifetime * fraction);
}

std::chrono::milliseconds CertificateManager::nextBackoff() {
  // 1s, 2s, 4s ... up to the maximum, each ±20% so restarted proxies spread out.
  double base = static_cast<double>(options_.initialBackoff.count()) * std::pow(2.0, std::min(failures_, 20));
  base = std::min(base, static_cast<double>(options_.maxBackoff.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(base * uniform(0.8, 1.2)));
}

void CertificateManager::run() {
  std::chrono::system_clock::time_point due = std::chrono::system_clock::now();
  for (;;) {
    std::shared_ptr<const WorkloadCertificate> held;
    {
      std::unique_lock lock(mu_);
      changed_.wait_until(lock, due, [&] { return stopping_ || renewRequested_; });
      if (stopping_) return;
      renewRequested_ = false;
      held = current_;
    }
    auto fetched = client_.fetch(held.get());
    std::vector<ChangeCallback> callbacks;
    {
      std::lock_guard lock(mu_);
      if (fetched) {
        current_ = *fetched;
        lastError_.clear();
        failures_ = 0;
        due = renewalTime(**fetched);
        callbacks = callbacks_;
      } else {
        lastError_ = fetched.error().message;
        auto wait = nextBackoff();
        ++failures_;
        due = std::chrono::system_clock::now() + wait;
      }
    }
    if (fetched) {
      changed_.notify_all();
      mesh::log::info("sds", "workload certificate for {} issued, expires {:%Y-%m-%dT%H:%M:%SZ}", (*fetched)->identity,
                      std::chrono::floor<std::chrono::seconds>((*fetched)->expiry));
      for (const auto& cb : callbacks) cb(*fetched);
    } else {
      mesh::log::warn("sds", "workload certificate: {} (attempt {}, retrying)", fetched.error().message, failures_);
    }
  }
}

}  // namespace mesh::proxy::security
