#include "analyzers/util/hosts.h"

namespace mesh::analysis {

std::string hostToFqdn(std::string_view host, std::string_view ns) {
  if (host.starts_with('*') || host.find('.') != std::string_view::npos || ns.empty()) return std::string(host);
  return serviceFqdn(host, ns);
}

std::string serviceFqdn(std::string_view name, std::string_view ns) {
  return std::string(name) + "." + std::string(ns) + ".svc." + std::string(kClusterDomain);
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern == "*") return true;
  if (pattern.starts_with('*')) return host.ends_with(pattern.substr(1));
  return pattern == host;
}

bool hostsOverlap(std::string_view a, std::string_view b) { return hostMatches(a, b) || hostMatches(b, a); }

}  // namespace mesh::analysis
