// The read-only world analyzers look at: resources indexed by kind, namespace and name, plus
// the mesh config (Istio's defaults merged with --meshConfigFile) and mesh networks. Built
// once per run; analyzers never change it.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/resource.h"

namespace mesh::analysis {

struct KindRef {
  std::string_view group;
  std::string_view kind;
  auto operator<=>(const KindRef&) const = default;
};

namespace kinds {
inline constexpr KindRef VirtualService{"networking.istio.io", "VirtualService"};
inline constexpr KindRef DestinationRule{"networking.istio.io", "DestinationRule"};
inline constexpr KindRef Gateway{"networking.istio.io", "Gateway"};
inline constexpr KindRef ServiceEntry{"networking.istio.io", "ServiceEntry"};
inline constexpr KindRef Sidecar{"networking.istio.io", "Sidecar"};
inline constexpr KindRef WorkloadEntry{"networking.istio.io", "WorkloadEntry"};
inline constexpr KindRef WorkloadGroup{"networking.istio.io", "WorkloadGroup"};
inline constexpr KindRef EnvoyFilter{"networking.istio.io", "EnvoyFilter"};
inline constexpr KindRef ProxyConfig{"networking.istio.io", "ProxyConfig"};
inline constexpr KindRef PeerAuthentication{"security.istio.io", "PeerAuthentication"};
inline constexpr KindRef AuthorizationPolicy{"security.istio.io", "AuthorizationPolicy"};
inline constexpr KindRef RequestAuthentication{"security.istio.io", "RequestAuthentication"};
inline constexpr KindRef Telemetry{"telemetry.istio.io", "Telemetry"};
inline constexpr KindRef WasmPlugin{"extensions.istio.io", "WasmPlugin"};
inline constexpr KindRef KubernetesGateway{"gateway.networking.k8s.io", "Gateway"};
inline constexpr KindRef HTTPRoute{"gateway.networking.k8s.io", "HTTPRoute"};
inline constexpr KindRef GRPCRoute{"gateway.networking.k8s.io", "GRPCRoute"};
inline constexpr KindRef GatewayClass{"gateway.networking.k8s.io", "GatewayClass"};
inline constexpr KindRef Namespace{"", "Namespace"};
inline constexpr KindRef Service{"", "Service"};
inline constexpr KindRef Pod{"", "Pod"};
inline constexpr KindRef Node{"", "Node"};
inline constexpr KindRef Secret{"", "Secret"};
inline constexpr KindRef ConfigMap{"", "ConfigMap"};
inline constexpr KindRef Deployment{"apps", "Deployment"};
inline constexpr KindRef MutatingWebhookConfiguration{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"};
inline constexpr KindRef ValidatingWebhookConfiguration{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"};
inline constexpr KindRef CustomResourceDefinition{"apiextensions.k8s.io", "CustomResourceDefinition"};
// Synthetic inputs: not read from files as objects, always present.
inline constexpr KindRef MeshConfig{"meshctl.internal", "MeshConfig"};
inline constexpr KindRef MeshNetworks{"meshctl.internal", "MeshNetworks"};
}  // namespace kinds

class Snapshot {
 public:
  // A later object with the same kind, namespace and name replaces an earlier one.
  Snapshot(std::vector<core::Resource> resources, nlohmann::json meshConfig, nlohmann::json meshNetworks);

  std::span<const core::Resource* const> all(KindRef kind) const;
  // Resources of `kind` in namespace `ns`, sorted by name (a slice of all(kind)).
  std::span<const core::Resource* const> inNamespace(KindRef kind, std::string_view ns) const;
  // Pods carrying label key=value, in all(Pod) order (so sorted by namespace): the candidates
  // for a selector that requires that label, so selector matching need not scan every pod.
  // Values are read as labelsFrom() reads them (a non-scalar value as "").
  std::span<const core::Resource* const> podsWithLabel(std::string_view key, std::string_view value) const;
  const core::Resource* find(KindRef kind, std::string_view ns, std::string_view name) const;
  bool has(KindRef kind) const { return !all(kind).empty(); }

  const nlohmann::json& meshConfig() const { return meshConfig_; }
  const nlohmann::json& meshNetworks() const { return meshNetworks_; }
  // meshConfig.rootNamespace, "istio-system" by default: policies there apply mesh-wide.
  const std::string& rootNamespace() const { return rootNamespace_; }

 private:
  std::vector<core::Resource> resources_;  // as given, replaced definitions included
  // (group, kind) → resources, sorted by (namespace, name); the keys view the resources' text.
  std::map<std::pair<std::string_view, std::string_view>, std::vector<const core::Resource*>> byKind_;
  std::map<std::pair<std::string_view, std::string_view>, std::vector<const core::Resource*>, std::less<>> podsByLabel_;
  nlohmann::json meshConfig_;
  nlohmann::json meshNetworks_;
  std::string rootNamespace_;
};

}  // namespace mesh::analysis
