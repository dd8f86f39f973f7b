// Virtual host domains for a sidecar, as Istio's generateVirtualHostDomains and
// GenerateAltVirtualHosts (pilot/pkg/networking/core/httproute.go) produce them. Part of
// virtual_host_builder.h.
#include <span>

#include <fmt/format.h>

#include "controlplane/xds/virtual_host_builder.h"

namespace mesh::xds {
namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    auto dot = s.find('.');
    out.push_back(s.substr(0, dot));
    if (dot == std::string_view::npos) return out;
    s.remove_prefix(dot + 1);
  }
}

std::string joinParts(std::span<const std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += '.';
    out += p;
  }
  return out;
}

std::string ipv6Compliant(std::string_view host) {
  if (host.find(':') != std::string_view::npos && !host.starts_with('[')) return fmt::format("[{}]", host);
  return std::string(host);
}

void appendDomainPort(std::vector<std::string>& out, std::string_view domain, uint32_t port) {
  out.push_back(ipv6Compliant(domain));
  if (port != 0) out.push_back(domainName(domain, port));
}

// Kubernetes service names a pod in `proxyDomain` ("ns.svc.cluster.local") can use for
// "name.svcns.svc.cluster.local": "name" and "name.svcns.svc" in its own namespace as well.
std::vector<std::string> kubernetesAltHosts(std::string_view host, uint32_t port, std::string_view proxyDomain) {
  std::vector<std::string> out;
  auto ih = host.find(".svc.");
  auto id = proxyDomain.find(".svc.");
  if (ih == std::string_view::npos || ih == 0) return out;  // not a Kubernetes service name
  auto ns = host.find('.');
  if (ns + 1 >= host.size() || ns + 1 > ih) return out;
  std::string_view name = host.substr(0, ns);
  std::string_view nameNs = host.substr(0, ih);
  std::string nameNsSvc = std::string(nameNs) + ".svc";
  if (host.substr(ns + 1, ih - ns - 1) == proxyDomain.substr(0, id)) {  // same namespace
    appendDomainPort(out, name, port);
    appendDomainPort(out, nameNsSvc, port);
    appendDomainPort(out, nameNs, port);
  } else {
    appendDomainPort(out, nameNs, port);
    appendDomainPort(out, nameNsSvc, port);
  }
  return out;
}

// Outside Kubernetes naming: the host's labels not shared with the proxy's domain, plus the
// first shared label when two remain ("foo.local" of foo.local.campus.net from
// remote.campus.net).
std::vector<std::string> genericAltHosts(std::string_view host, uint32_t port, std::string_view proxyDomain) {
  std::vector<std::string> out;
  auto h = split(host), d = split(proxyDomain);
  size_t shared = 0;
  while (shared < h.size() && shared < d.size() && h[h.size() - 1 - shared] == d[d.size() - 1 - shared]) ++shared;
  if (shared == 0 || shared == h.size()) return out;
  std::span<const std::string_view> unique(h.data(), h.size() - shared);
  std::string uniqueName = joinParts(unique);
  appendDomainPort(out, uniqueName, port);
  if (unique.size() == 2) appendDomainPort(out, uniqueName + "." + std::string(h[h.size() - shared]), port);
  return out;
}

}  // namespace

std::string domainName(std::string_view host, uint32_t port) {
  return fmt::format("{}:{}", ipv6Compliant(host), port);
}

std::vector<std::string> virtualHostDomains(const model::Service& svc, uint32_t port, const model::Proxy& proxy,
                                            bool portInDomains) {
  uint32_t p = portInDomains ? port : 0;
  std::vector<std::string> out;
  appendDomainPort(out, svc.hostname, p);
  std::string_view proxyDomain = proxy.dnsDomain;
  std::vector<std::string> alt;
  if (auto svcAt = proxyDomain.find(".svc."); svcAt != std::string_view::npos) {
    // Only hosts under the proxy's cluster domain expand; anything else could collide with
    // expansions of real Kubernetes names.
    if (svc.hostname.ends_with(proxyDomain.substr(svcAt))) alt = kubernetesAltHosts(svc.hostname, p, proxyDomain);
  } else if (!proxyDomain.empty()) {
    alt = genericAltHosts(svc.hostname, p, proxyDomain);
  }
  out.insert(out.end(), alt.begin(), alt.end());
  // Headless Kubernetes services are also reached by pod names under the service name.
  if (svc.resolution == model::Resolution::Passthrough && !svc.fromServiceEntry) {
    size_t n = out.size();
    for (size_t i = 0; i < n; ++i) out.push_back("*." + out[i]);
  }
  if (!svc.address.empty() && svc.address != "0.0.0.0") appendDomainPort(out, svc.address, p);
  return out;
}

}  // namespace mesh::xds
