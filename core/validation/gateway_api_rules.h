// Rules shared by the Gateway API kinds (Gateway, HTTPRoute). Stateless; any thread.
#pragma once

#include <string>
#include <string_view>

namespace mesh::core::validation {

// Gateway API Hostname: a DNS name, optionally "*." first; no IP addresses. "" when valid.
std::string checkGatewayHostname(std::string_view host);

}  // namespace mesh::core::validation
