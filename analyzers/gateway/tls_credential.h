// Judges a Secret named by a Gateway's credentialName the way istiod does before serving it
// over SDS (pilot's ExtractCertInfo + xds ValidateCertificate). Owned by the gateway analyzers;
// pure functions, any thread.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "core/resource.h"

namespace mesh::analysis {

// Standard base64 (with padding; line breaks ignored), as Kubernetes encodes Secret data.
std::optional<std::string> decodeBase64(std::string_view text);

// The certificate PEM of a Secret: `cert`+`key` (generic) or `tls.crt`+`tls.key` (kubernetes.io/tls),
// both non-empty. nullopt when neither pair is there.
std::optional<std::string> gatewayCertificate(const core::Resource& secret);

// The first PEM block must hold parseable DER certificates, each valid at `now`.
bool certificateUsable(std::string_view pem, std::time_t now);

bool isValidGatewayCredential(const core::Resource& secret, std::time_t now);

}  // namespace mesh::analysis
