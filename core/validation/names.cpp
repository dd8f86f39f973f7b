#include "core/validation/names.h"

#include <fmt/format.h>

#include "core/validation/net.h"

namespace mesh::core::validation {
namespace {

bool lowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// Kubernetes' qualified name part and label value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool isQualifiedPart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Istio's IsWildcardDNS1123Label: "*", or a DNS label whose first character may be '*'.
bool isWildcardLabel(std::string_view s) {
  if (s == "*") return true;
  if (s.size() > 63 || s.empty()) return false;
  if (s.front() == '*') s.remove_prefix(1);
  if (s.empty()) return false;
  if (!lowerAlnum(s.back())) return false;
  for (char c : s)
    if (!lowerAlnum(c) && c != '-') return false;
  return true;
}

// The labels after a wildcard's first one: DNS-1123 labels, a non-numeric TLD, maybe a final dot.
// Returns the reason only; callers prefix the host.
std::string dnsLabelsReason(std::string_view domain) {
  std::string_view rest = domain;
  std::string_view last;
  size_t count = 0;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    bool final = dot == std::string_view::npos;
    if (final && label.empty() && count > 0) break;  // trailing dot: istio.io.
    if (!isDns1123Label(label))
      return fmt::format("label \"{}\" must be lowercase letters, digits and '-'", label);
    last = label;
    ++count;
    if (final) break;
    rest = rest.substr(dot + 1);
  }
  if (allDigits(last)) return "the top-level domain cannot be all digits";
  return {};
}

std::string wildcardReason(std::string_view host) {
  if (host.empty()) return "host must not be empty";
  if (host.size() > 255) return "longer than 255 characters";
  size_t dot = host.find('.');
  std::string_view first = host.substr(0, dot);
  if (!isWildcardLabel(first)) {
    if (first.find('*') != std::string_view::npos) return "a wildcard '*' may only start the first label";
    return fmt::format("label \"{}\" must be lowercase letters, digits and '-'", first);
  }
  if (dot == std::string_view::npos) return {};
  return dnsLabelsReason(host.substr(dot + 1));
}

std::string withHost(std::string_view host, const std::string& reason) {
  if (reason.empty() || host.empty()) return reason;
  return fmt::format("invalid host \"{}\": {}", host, reason);
}

}  // namespace

bool isDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63 || !lowerAlnum(s.front()) || !lowerAlnum(s.back())) return false;
  for (char c : s)
    if (!lowerAlnum(c) && c != '-') return false;
  return true;
}

bool isDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (true) {
    size_t dot = s.find('.');
    if (!isDns1123Label(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

bool isDns1035Label(std::string_view s) {
  return isDns1123Label(s) && s.front() >= 'a' && s.front() <= 'z';
}

std::string checkDns1123Label(std::string_view s) {
  if (s.size() > 63) return fmt::format("\"{}\" is longer than 63 characters", s);
  if (!isDns1123Label(s))
    return fmt::format("\"{}\" must be a DNS label: lowercase letters, digits and '-', starting and ending "
                       "with a letter or digit",
                       s);
  return {};
}

std::string checkDns1123Subdomain(std::string_view s) {
  if (s.size() > 253) return fmt::format("\"{}\" is longer than 253 characters", s);
  if (!isDns1123Subdomain(s))
    return fmt::format("\"{}\" must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and "
                       "ending with a letter or digit",
                       s);
  return {};
}

std::string checkDns1035Label(std::string_view s) {
  if (s.size() > 63) return fmt::format("\"{}\" is longer than 63 characters", s);
  if (!isDns1035Label(s))
    return fmt::format("\"{}\" must be a DNS-1035 label: lowercase letters, digits and '-', starting with a "
                       "letter and ending with a letter or digit",
                       s);
  return {};
}

std::string checkQualifiedName(std::string_view s) {
  std::string_view name = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty() || !isDns1123Subdomain(prefix))
      return fmt::format("invalid key \"{}\": the prefix before '/' must be a DNS subdomain", s);
  }
  if (name.empty()) return fmt::format("invalid key \"{}\": the name part must not be empty", s);
  if (name.size() > 63) return fmt::format("invalid key \"{}\": the name part is longer than 63 characters", s);
  if (!isQualifiedPart(name))
    return fmt::format("invalid key \"{}\": use letters, digits, '-', '_' and '.', starting and ending with a "
                       "letter or digit",
                       s);
  return {};
}

std::string checkLabelValue(std::string_view s) {
  if (s.empty()) return {};
  if (s.size() > 63) return fmt::format("invalid label value \"{}\": longer than 63 characters", s);
  if (!isQualifiedPart(s))
    return fmt::format("invalid label value \"{}\": use letters, digits, '-', '_' and '.', starting and ending "
                       "with a letter or digit",
                       s);
  return {};
}

std::string checkFqdn(std::string_view host) {
  if (host.empty()) return "host must not be empty";
  if (host.size() > 255) return withHost(host, "longer than 255 characters");
  return withHost(host, dnsLabelsReason(host));
}

std::string checkWildcardDomain(std::string_view host) { return withHost(host, wildcardReason(host)); }

std::string checkNamespaceHost(std::string_view host, bool isGateway) {
  size_t slash = host.find('/');
  std::string_view dns = host;
  if (slash == std::string_view::npos) {
    if (!isGateway) return fmt::format("invalid host \"{}\": use the form namespace/host (./*, */*, ns/foo.com)", host);
  } else {
    std::string_view ns = host.substr(0, slash);
    dns = host.substr(slash + 1);
    if (ns.empty() || dns.empty())
      return fmt::format("invalid host \"{}\": namespace and host must not be empty", host);
    // Namespace: "*", "." (this namespace), "~" (none, sidecars only) or a DNS label.
    bool special = ns == "*" || ns == "." || (ns == "~" && !isGateway);
    if (!special && !isDns1123Label(ns))
      return fmt::format("invalid host \"{}\": namespace \"{}\" must be *, . or a DNS label", host, ns);
  }
  // Short names are not allowed here; gateways may name an IP.
  if (dns != "*" && dns.find('.') == std::string_view::npos)
    return fmt::format("invalid host \"{}\": short names are not allowed, use a fully qualified name", host);
  if (isGateway && isIpAddress(dns)) return {};
  if (dns.find('*') != std::string_view::npos && dns != "*" && !dns.starts_with("*."))
    return fmt::format("invalid host \"{}\": partial wildcards are not allowed, use *.example.com", host);
  return withHost(host, wildcardReason(dns));
}

bool hostsOverlap(std::string_view a, std::string_view b) {
  bool aw = a.starts_with('*'), bw = b.starts_with('*');
  if (aw && bw) return a.size() < b.size() ? b.substr(1).ends_with(a.substr(1)) : a.substr(1).ends_with(b.substr(1));
  if (aw) return b.ends_with(a.substr(1));
  if (bw) return a.ends_with(b.substr(1));
  return a == b;
}

bool hostSubsetOf(std::string_view a, std::string_view b) {
  if (a.starts_with('*')) return b.starts_with('*') && a.substr(1).ends_with(b.substr(1));
  if (b.starts_with('*')) return a.ends_with(b.substr(1));
  return a == b;
}

}  // namespace mesh::core::validation
