// Keeps meshproxy's workload certificate fresh, as istio-agent's secret manager does: fetches
// one at start, renews at about half its lifetime (jittered so a fleet does not renew at once),
// retries failures with exponential backoff, and tells listeners when it changes. Owns one
// background thread; current(), onChange() and renewNow() may be called from any thread.
// Change callbacks run on the manager's thread, outside its lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy/security/ca_client.h"

namespace mesh::proxy::security {

struct CertificateManagerOptions {
  CaClientOptions client;
  // Istio's SECRET_GRACE_PERIOD_RATIO: renew once this fraction of the lifetime has passed,
  // give or take `renewJitter` (a fraction of the lifetime).
  double renewFraction = 0.5;
  double renewJitter = 0.05;
  std::chrono::milliseconds initialBackoff{1000};
  std::chrono::milliseconds maxBackoff{60000};
};

class CertificateManager {
 public:
  using ChangeCallback = std::function<void(const std::shared_ptr<const WorkloadCertificate>&)>;

  explicit CertificateManager(CertificateManagerOptions options);
  ~CertificateManager();  // stops the thread
  CertificateManager(const CertificateManager&) = delete;
  CertificateManager& operator=(const CertificateManager&) = delete;

  // Starts the background thread, which fetches a first certificate at once.
  void start();
  void stop();

  // The certificate in force; null until the first one arrives.
  std::shared_ptr<const WorkloadCertificate> current() const;
  // Called after every change (the first certificate included). A callback added after a
  // certificate exists is not called for it; read current() once after adding.
  void onChange(ChangeCallback callback);
  // Renews now instead of waiting (e.g. after the root file changed).
  void renewNow();
  // Waits until a certificate exists or `timeout` passes; true when one exists.
  bool waitForCertificate(std::chrono::milliseconds timeout) const;
  // The last failure, "" after a success.
  std::string lastError() const;

 private:
  void run();
  std::chrono::system_clock::time_point renewalTime(const WorkloadCertificate& cert);
  std::chrono::milliseconds nextBackoff();

  CertificateManagerOptions options_;
  CaClient client_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const WorkloadCertificate> current_;
  std::vector<ChangeCallback> callbacks_;
  std::string lastError_;
  bool stopping_ = false;
  bool renewRequested_ = false;
  int failures_ = 0;
  std::thread thread_;
};

}  // namespace mesh::proxy::security
