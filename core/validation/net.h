// Addresses and ports as Istio validates them (agent.ValidateIPAddress, ValidateIPSubnet,
// ValidatePort) and the port range check shared by every kind. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/validation/context.h"

namespace mesh::core::validation {

bool isIpv4(std::string_view s);
bool isIpv6(std::string_view s);
inline bool isIpAddress(std::string_view s) { return isIpv4(s) || isIpv6(s); }
// "10.0.0.0/8", "2001:db8::/32": an address and a prefix length that fits it.
bool isCidr(std::string_view s);
// Istio's ValidateIPSubnet: a CIDR block or a plain address; "" when valid.
std::string checkIpOrCidr(std::string_view s);

// Reports a port number outside 1..65535 (Istio's ValidatePort) on `node` when it is an integer.
void checkPortNumber(const Node* node, const std::string& path, ValidationContext& ctx);

}  // namespace mesh::core::validation
