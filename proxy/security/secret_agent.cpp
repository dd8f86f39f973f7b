#include "proxy/security/secret_agent.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/log.h"
#include "proxy/security/sds_secrets.h"
#include "proxy/security/workload_csr.h"
#include "proxy/xds/sds_resources.h"

namespace mesh::proxy::security {

SecretAgent::SecretAgent(CertificateManagerOptions options, std::shared_ptr<dataplane::SecretStore> store)
    : store_(std::move(store)), manager_(options),
      identity_(spiffeUri(options.client.trustDomain, options.client.ns, options.client.serviceAccount)) {
  manager_.onChange([this](const std::shared_ptr<const WorkloadCertificate>& cert) { publish(cert); });
}

SecretAgent::~SecretAgent() { stop(); }

void SecretAgent::start() { manager_.start(); }

void SecretAgent::stop() { manager_.stop(); }

std::string SecretAgent::identity() const { return identity_; }

void SecretAgent::publish(const std::shared_ptr<const WorkloadCertificate>& cert) {
  if (!cert) return;
  // Istio's agent versions SDS responses by time; the issue time names this certificate.
  std::string version = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                                    fmt::gmtime(std::chrono::system_clock::to_time_t(cert->issuedAt)));
  std::vector<XdsResource<envoy::extensions::transport_sockets::tls::v3::Secret>> dumped;
  for (auto& secret : renderSdsSecrets(*cert)) {
    redactSecret(secret);
    dumped.push_back({std::move(secret), version, cert->issuedAt});
  }
  dataplane::TlsSecret workload;
  workload.certificateChainPem = cert->certChainPem;
  workload.privateKeyPem = cert->privateKeyPem;
  dataplane::TlsSecret root;
  root.trustedCaPem = cert->rootPem;
  // The root first: a context rebuilt between the two writes trusts the new root already.
  store_->set(std::string(kRootSecretName), std::move(root));
  store_->set(std::string(kWorkloadSecretName), std::move(workload));
  {
    std::lock_guard lock(mu_);
    dumped_ = std::move(dumped);
  }
  log::info("sds", "workload certificate for {} valid until {:%Y-%m-%dT%H:%M:%SZ}: secrets {} and {} updated",
            cert->identity, fmt::gmtime(std::chrono::system_clock::to_time_t(cert->expiry)), kWorkloadSecretName,
            kRootSecretName);
}

bool SecretAgent::ready() const {
  std::lock_guard lock(mu_);
  return !dumped_.empty();
}

std::string SecretAgent::notReadyReason() const {
  if (ready()) return {};
  std::string error = manager_.lastError();
  if (error.empty()) return fmt::format("waiting for the workload certificate of {}", identity_);
  return fmt::format("no workload certificate for {} yet: {}", identity_, error);
}

std::vector<XdsResource<envoy::extensions::transport_sockets::tls::v3::Secret>> SecretAgent::dumpedSecrets() const {
  std::lock_guard lock(mu_);
  return dumped_;
}

}  // namespace mesh::proxy::security
