// Host-name helpers with Istio's semantics, shared by analyzers.
#pragma once

#include <string>
#include <string_view>

namespace mesh::analysis {

inline constexpr std::string_view kClusterDomain = "cluster.local";

// Istio's ConvertHostToFQDN: a short name (no dot, no wildcard) becomes
// name.namespace.svc.cluster.local; anything else is kept as written.
std::string hostToFqdn(std::string_view host, std::string_view ns);

// The FQDN of a Kubernetes Service: name.namespace.svc.cluster.local.
std::string serviceFqdn(std::string_view name, std::string_view ns);

// Istio host matching: "*.example.com" matches "a.example.com"; "*" matches everything.
bool hostMatches(std::string_view pattern, std::string_view host);
// Whether two host patterns can match a common host (either direction).
bool hostsOverlap(std::string_view a, std::string_view b);

}  // namespace mesh::analysis
