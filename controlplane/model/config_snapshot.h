// ConfigSnapshot: one immutable, validated view of all mesh config at a version, with the
// indexes the xDS generators ask for (Istio's PushContext). Invalid config resources are
// dropped here, with an attributed Diagnostic, so they never reach a proxy. Built by meshd's
// push loop on every debounced change; shared read-only by every generator thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "controlplane/model/jwt_keys.h"
#include "controlplane/model/mesh_config.h"
#include "controlplane/model/proxy.h"
#include "controlplane/model/service_registry.h"
#include "core/diagnostic.h"
#include "core/resource.h"

namespace mesh::model {

struct SnapshotOptions {
  // The MeshConfig's values, or meshd's flags where it names none (see withMeshConfig).
  std::string rootNamespace = "istio-system";  // MeshConfig rootNamespace
  std::string domain = "cluster.local";
  std::string trustDomain = "cluster.local";  // MeshConfig trustDomain
  // The rest of the MeshConfig (extensionProviders, localityLbSetting); null: Istio's defaults.
  std::shared_ptr<const MeshConfig> meshConfig;
  // JWKS meshd fetched for jwksUri/issuer-only jwtRules (controlplane/jwks); null: none yet,
  // and such rules get keys that verify nothing.
  std::shared_ptr<const JwtKeys> jwtKeys;
};

// `options` with `mesh` in force: its rootNamespace and trustDomain where it sets them.
SnapshotOptions withMeshConfig(SnapshotOptions options, std::shared_ptr<const MeshConfig> mesh);

class ConfigSnapshot {
 public:
  static std::shared_ptr<const ConfigSnapshot> build(std::vector<core::Resource> resources, uint64_t version,
                                                      const SnapshotOptions& options = {});

  uint64_t version() const { return version_; }
  const SnapshotOptions& options() const { return options_; }
  const MeshConfig& meshConfig() const { return options_.meshConfig ? *options_.meshConfig : *defaultMeshConfig(); }
  const ServiceRegistry& registry() const { return registry_; }
  // Config that failed validation and was left out, one Diagnostic per finding.
  const core::Diagnostics& skipped() const { return skipped_; }

  // Every valid object of a kind, sorted by namespace then name.
  std::span<const core::Resource* const> ofKind(std::string_view group, std::string_view kind) const;

  // VirtualServices bound to `gateway` ("mesh" for sidecars, "ns/name" for gateways) that a
  // proxy in `proxyNs` may see (exportTo), oldest first as Istio orders them... here by
  // namespace/name, which is stable across restarts.
  std::vector<const core::Resource*> virtualServices(std::string_view proxyNs, std::string_view gateway) const;
  // Istio's DestinationRule lookup for a host as seen from a proxy: the proxy's namespace,
  // then the service's, then the root namespace; exact hosts beat wildcards. nullptr if none.
  const core::Resource* destinationRule(const Proxy& proxy, std::string_view host, std::string_view serviceNs) const;
  // The Sidecar resource scoping this proxy: its namespace's (workloadSelector match first),
  // else the root namespace's default; nullptr when none applies.
  const core::Resource* sidecarFor(const Proxy& proxy) const;
  // Workload policies (PeerAuthentication, AuthorizationPolicy, RequestAuthentication...) that
  // select the proxy: root-namespace and own-namespace objects whose selector matches.
  std::vector<const core::Resource*> policiesFor(std::string_view group, std::string_view kind,
                                                 const Proxy& proxy) const;
  // A Service or ServiceEntry host as declared, resolved to the service a proxy sees.
  // Whether a DestinationRule in `ns` selects workloads by label (then a proxy's outbound
  // config depends on its labels, not only on its namespace and Sidecar).
  bool hasWorkloadScopedDestinationRules(std::string_view ns) const {
    return workloadScopedDrNamespaces_.contains(ns);
  }
  // Whether any VirtualService matches on sourceLabels (http, tcp or tls): only then can a
  // proxy's labels change its routes, and generators check per proxy.
  bool anyVirtualServiceMatchesSourceLabels() const { return sourceLabelRoutes_; }
  // Whether every sidecar without a Sidecar resource sees the same outbound config whatever
  // its namespace: no exportTo limits on services, VirtualServices or DestinationRules, each
  // hostname declared once, every DestinationRule beside its service and not workload-scoped,
  // no sourceNamespace matches. Then such proxies share one scope (one CDS, EDS and listener
  // build per push instead of one per namespace); otherwise each namespace gets its own.
  bool outboundIsNamespaceIndependent() const { return namespaceIndependentOutbound_; }
  const Service* service(std::string_view host, std::string_view proxyNs) const {
    return registry_.lookup(host, proxyNs);
  }

 private:
  uint64_t version_ = 0;
  SnapshotOptions options_;
  std::vector<core::Resource> resources_;
  ServiceRegistry registry_;
  core::Diagnostics skipped_;
  std::map<std::pair<std::string, std::string>, std::vector<const core::Resource*>, std::less<>> byKind_;
  std::set<std::string, std::less<>> workloadScopedDrNamespaces_;
  bool sourceLabelRoutes_ = false;
  bool namespaceIndependentOutbound_ = false;
  bool computeNamespaceIndependence() const;

  // DestinationRules of one namespace by resolved host: a lookup happens per cluster per
  // proxy scope, and a scan of every rule made CDS generation quadratic in mesh size.
  struct HostedRule {
    const core::Resource* rule;
    std::string host;  // FQDN, or a wildcard pattern
  };
  struct NamespaceRules {
    std::unordered_map<std::string, std::vector<HostedRule>> exact;  // in ofKind order
    std::vector<HostedRule> wildcard;                                // in ofKind order
  };
  std::map<std::string, NamespaceRules, std::less<>> destinationRules_;
  void indexDestinationRules();
  const core::Resource* bestDestinationRule(std::string_view ns, const Proxy& proxy, std::string_view host) const;
};

// Whether a workloadSelector/selector `matchLabels` map selects these labels (empty: all).
bool selectorSelects(const core::Node* matchLabels, const Labels& labels);

// Istio host matching: "*.example.com" matches "a.example.com"; "*" matches everything.
bool hostMatches(std::string_view pattern, std::string_view host);

}  // namespace mesh::model
