// The CA's read-only endpoint on meshd's monitoring port: GET /ca/root-cert.pem, the root
// certificate workloads trust (what Istio publishes as the istio-ca-root-cert ConfigMap).
// Registered once at start-up; the handler runs on the monitoring server's thread.
#pragma once

#include "controlplane/ca/certificate_authority.h"
#include "controlplane/monitoring/route_table.h"

namespace mesh::ca {

inline constexpr std::string_view kRootCertPath = "/ca/root-cert.pem";

// `ca` must outlive the route table.
Result<void> addCaRoutes(monitoring::RouteTable& routes, const CertificateAuthority& ca);

}  // namespace mesh::ca
