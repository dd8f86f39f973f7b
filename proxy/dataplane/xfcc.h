// x-forwarded-client-cert as Envoy's connection manager sets it from forward_client_cert_details
// and set_current_client_cert_details (Istio's sidecar inbound: APPEND_FORWARD; gateways:
// SANITIZE_SET). Called by the router for each request, worker thread.
#pragma once

#include "proxy/dataplane/engine.h"

namespace mesh::proxy::dataplane {

void applyForwardClientCert(HeaderMap& headers, const HttpConnectionManagerConfig& hcm, const Downstream& ds);

// "By=…;Hash=…;Subject=\"…\";URI=…;DNS=…" for this connection's client certificate.
std::string clientCertDetails(const HttpConnectionManagerConfig::ClientCertDetails& details, const TlsSession& tls);

}  // namespace mesh::proxy::dataplane
