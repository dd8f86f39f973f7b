// SecretAgent: meshproxy's certificate agent, in process, as Istio's pilot-agent serves Envoy's
// SDS: keeps a workload certificate from the CA (CertificateManager) and, on every change,
// writes it into the data plane's SecretStore as "default" (chain and key) and "ROOTCA" (the
// trusted root). start() and stop() are called from main's thread; ready(), notReadyReason()
// and dumpedSecrets() from any thread (the admin endpoint's); the store is written from the
// certificate manager's thread. Key material is never logged.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "proxy/dataplane/secret_store.h"
#include "proxy/security/certificate_manager.h"
#include "proxy/xds/xds_snapshot.h"

namespace mesh::proxy::security {

class SecretAgent {
 public:
  SecretAgent(CertificateManagerOptions options, std::shared_ptr<dataplane::SecretStore> store);
  ~SecretAgent();  // stop()
  SecretAgent(const SecretAgent&) = delete;
  SecretAgent& operator=(const SecretAgent&) = delete;

  // Starts fetching; the first certificate arrives asynchronously.
  void start();
  void stop();

  // True once "default" and "ROOTCA" are in the store.
  bool ready() const;
  // "" when ready; else why not (waiting, or the CA's last error), for /healthz/ready.
  std::string notReadyReason() const;
  // "default" and "ROOTCA" as SDS Secrets with their version and time, the private key
  // already redacted ("[redacted]"), for /config_dump.
  std::vector<XdsResource<envoy::extensions::transport_sockets::tls::v3::Secret>> dumpedSecrets() const;
  // The SPIFFE identity the agent asks for.
  std::string identity() const;

 private:
  void publish(const std::shared_ptr<const WorkloadCertificate>& cert);

  std::shared_ptr<dataplane::SecretStore> store_;
  CertificateManager manager_;
  std::string identity_;
  mutable std::mutex mu_;
  std::vector<XdsResource<envoy::extensions::transport_sockets::tls::v3::Secret>> dumped_;
};

}  // namespace mesh::proxy::security
