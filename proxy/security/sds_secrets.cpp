#include "proxy/security/sds_secrets.h"

namespace mesh::proxy::security {

std::vector<envoy::extensions::transport_sockets::tls::v3::Secret> renderSdsSecrets(const WorkloadCertificate& cert) {
  std::vector<envoy::extensions::transport_sockets::tls::v3::Secret> secrets(2);
  auto& workload = secrets[0];
  workload.set_name(std::string(kWorkloadSecretName));
  auto* tls = workload.mutable_tls_certificate();
  tls->mutable_certificate_chain()->set_inline_bytes(cert.certChainPem);
  tls->mutable_private_key()->set_inline_bytes(cert.privateKeyPem);
  auto& root = secrets[1];
  root.set_name(std::string(kRootSecretName));
  root.mutable_validation_context()->mutable_trusted_ca()->set_inline_bytes(cert.rootPem);
  return secrets;
}

}  // namespace mesh::proxy::security
