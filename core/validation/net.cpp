#include "core/validation/net.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

#include <fmt/format.h>

namespace mesh::core::validation {

bool isIpv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  in_addr out{};
  return ::inet_pton(AF_INET, std::string(s).c_str(), &out) == 1;
}

bool isIpv6(std::string_view s) {
  if (s.empty() || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
  in6_addr out{};
  return ::inet_pton(AF_INET6, std::string(s).c_str(), &out) == 1;
}

bool isCidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view addr = s.substr(0, slash);
  std::string_view bits = s.substr(slash + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
  if (bits.empty() || ec != std::errc() || ptr != bits.data() + bits.size()) return false;
  if (bits.size() > 1 && bits[0] == '0') return false;  // Go's netip rejects leading zeros
  if (isIpv4(addr)) return value <= 32;
  if (isIpv6(addr)) return value <= 128;
  return false;
}

std::string checkIpOrCidr(std::string_view s) {
  if (s.find('/') != std::string_view::npos) {
    if (!isCidr(s)) return fmt::format("\"{}\" is not a valid CIDR block", s);
    return {};
  }
  if (!isIpAddress(s)) return fmt::format("\"{}\" is not a valid IP address", s);
  return {};
}

void checkPortNumber(const Node* node, const std::string& path, ValidationContext& ctx) {
  if (!node) return;
  auto v = node->asInt();
  if (!v) return;
  if (*v < 1 || *v > 65535) ctx.error(node, path, fmt::format("port {} is out of range 1..65535", *v));
}

}  // namespace mesh::core::validation
