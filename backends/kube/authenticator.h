// Authenticator: the credentials a request carries, from a RestConfig: a client certificate and
// key, a bearer token (static, or a token file re-read every minute as projected service
// account tokens rotate, as client-go does), or an exec plugin's output. RestClient asks it
// before each request and tells it about 401s. Thread-safe. Never log what it returns.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "backends/kube/exec_credential.h"
#include "backends/kube/rest_config.h"
#include "core/result.h"

namespace mesh::backends::kube {

struct Credentials {
  std::string token{};
  std::string clientCertPem{};
  std::string clientKeyPem{};
};

class Authenticator {
 public:
  explicit Authenticator(const RestConfig& config, ExecOptions execOptions = {});

  Result<Credentials> credentials();
  // After a 401 with `used`: drops what may be stale. True when a retry could use something new.
  bool refreshAfterUnauthorized(const Credentials& used);
  // How many times the exec plugin ran (tests).
  size_t execRuns() const { return exec_ ? exec_->runs() : 0; }

 private:
  Result<std::string> tokenFromFile();

  const std::string staticToken_;
  const std::string tokenFile_;
  const std::string certPem_;
  const std::string keyPem_;
  std::unique_ptr<ExecCredentialPlugin> exec_;

  std::mutex mu_;  // the token file's cache
  std::string fileToken_;
  std::chrono::steady_clock::time_point fileReadAt_{};
  bool fileRead_ = false;
};

}  // namespace mesh::backends::kube
