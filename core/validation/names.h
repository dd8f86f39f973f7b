// Kubernetes name rules (apimachinery's validation package) and Istio's host name rules
// (pkg/config/validation/agent): DNS-1123 labels and subdomains, DNS-1035 labels, label keys and
// values, qualified names, FQDNs, wildcard domains and "namespace/host" entries.
// Each check returns "" when the value is valid, else a short lowercase reason.
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace mesh::core::validation {

bool isDns1123Label(std::string_view s);      // [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63
bool isDns1123Subdomain(std::string_view s);  // labels joined by '.', at most 253
bool isDns1035Label(std::string_view s);      // a DNS-1123 label starting with a letter

std::string checkDns1123Label(std::string_view s);
std::string checkDns1123Subdomain(std::string_view s);
std::string checkDns1035Label(std::string_view s);

// Label and annotation keys: [prefix/]name, prefix a DNS subdomain, name at most 63 of
// [A-Za-z0-9-_.] starting and ending alphanumeric.
std::string checkQualifiedName(std::string_view s);
// Label values: empty, or at most 63 of [A-Za-z0-9-_.] starting and ending alphanumeric.
std::string checkLabelValue(std::string_view s);

// Istio's ValidateFQDN: DNS-1123 labels, a top-level label that is not all digits, an optional
// trailing dot, at most 255.
std::string checkFqdn(std::string_view host);
// Istio's ValidateWildcardDomain: an FQDN whose first label may be "*" or start with "*"
// (*.example.com, *), short names allowed (reviews).
std::string checkWildcardDomain(std::string_view host);
// Istio's ValidateNamespaceSlashWildcardHostname, for Gateway servers (isGateway, where a bare
// host is the legacy form) and Sidecar egress hosts (ns/host required).
std::string checkNamespaceHost(std::string_view host, bool isGateway);

// Istio's host.Name.Matches: the two hosts overlap (either may be a *.wildcard).
bool hostsOverlap(std::string_view a, std::string_view b);
// Istio's host.Name.SubsetOf: every name `a` matches is also matched by `b`.
bool hostSubsetOf(std::string_view a, std::string_view b);

}  // namespace mesh::core::validation
