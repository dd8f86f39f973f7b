// The workload certificate as Envoy SDS Secrets under the names Istio's agent serves and
// meshd's listeners and clusters reference: "default" (tls_certificate: chain and private key)
// and "ROOTCA" (validation_context: the trusted root). Pure; any thread. The "default" secret
// holds the private key: a caller that dumps config must redact it (the field is marked
// udpa.annotations.sensitive, which Envoy's redaction and meshd's follow).
#pragma once

#include <string_view>
#include <vector>

#include "envoy/extensions/transport_sockets/tls/v3/secret.pb.h"
#include "proxy/security/ca_client.h"

namespace mesh::proxy::security {

inline constexpr std::string_view kWorkloadSecretName = "default";
inline constexpr std::string_view kRootSecretName = "ROOTCA";

// {"default", "ROOTCA"}, in that order, with the PEMs inline.
std::vector<envoy::extensions::transport_sockets::tls::v3::Secret> renderSdsSecrets(const WorkloadCertificate& cert);

}  // namespace mesh::proxy::security
