// Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), as kubectl runs them:
// the command gets KUBERNETES_EXEC_INFO with an ExecCredential spec (never interactive here:
// stdin is /dev/null), prints an ExecCredential whose status holds a token or a client
// certificate and key, and an optional expiry. ExecCredentialPlugin caches the result until it
// expires or a 401 says it is stale. Thread-safe. Plugin output is secret: never logged.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "backends/kube/rest_config.h"
#include "core/result.h"

namespace mesh::backends::kube {

struct ExecCredential {
  std::string token{};
  std::string clientCertPem{};
  std::string clientKeyPem{};
  std::optional<std::chrono::system_clock::time_point> expiry{};  // none: valid until a 401
};

// What provideClusterInfo passes to the plugin (spec.cluster).
struct ExecClusterInfo {
  std::string server{};
  std::string caPem{};
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName{};
};

struct ExecOptions {
  std::chrono::milliseconds timeout{60000};  // the plugin's whole run
  size_t maxOutputBytes = 1u << 20;          // stdout; more is an error
  size_t maxErrorBytes = 4096;               // stderr kept for the error message
};

// Runs the plugin once. Errors name the command and carry its stderr; its stdout (which holds
// the credential) never appears in a message.
Result<ExecCredential> runExecPlugin(const ExecConfig& config, const ExecClusterInfo& cluster,
                                     const ExecOptions& options = {});

// "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+02:00" (RFC 3339); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);

class ExecCredentialPlugin {
 public:
  ExecCredentialPlugin(ExecConfig config, ExecClusterInfo cluster, ExecOptions options = {});

  // The cached credential while it is valid, else a fresh run. Concurrent callers share one run.
  Result<ExecCredential> get();
  // After a 401 with `used`: the next get() runs the plugin again (unless another caller
  // already replaced that credential).
  void invalidate(const ExecCredential& used);
  size_t runs() const;

 private:
  const ExecConfig config_;
  const ExecClusterInfo cluster_;
  const ExecOptions options_;
  mutable std::mutex mu_;  // held during a run: callers wait for it rather than start another
  std::optional<ExecCredential> cached_;
  size_t runs_ = 0;
};

}  // namespace mesh::backends::kube
