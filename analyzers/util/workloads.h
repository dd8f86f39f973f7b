// Pod and Deployment helpers with Istio's analyzer semantics (pkg/config/analysis/analyzers/util):
// where the pod spec and template metadata live, which containers a pod runs, whether a
// workload is in the mesh, and the injector ConfigMap names. Used by the workload analyzers
// (injection, deployment, annotations). Pure functions over immutable resources; any thread.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/snapshot.h"
#include "analyzers/util/selectors.h"
#include "core/resource.h"

namespace mesh::analysis {

inline constexpr std::string_view kIstioProxyContainer = "istio-proxy";
inline constexpr std::string_view kInjectionLabel = "istio-injection";
inline constexpr std::string_view kRevisionLabel = "istio.io/rev";
inline constexpr std::string_view kSidecarInjectKey = "sidecar.istio.io/inject";
inline constexpr std::string_view kDataplaneModeLabel = "istio.io/dataplane-mode";
inline constexpr std::string_view kInjectorConfigMap = "istio-sidecar-injector";

// The text of a scalar under `key` of a mapping, or "" (also for a null node).
std::string_view scalarAt(const core::Node* map, std::string_view key);
// Whether a mapping has `key` at all (Go's `_, ok := m[key]`).
bool hasKey(const core::Node* map, std::string_view key);

// A Pod's spec, or a Deployment's spec.template.spec; nullptr when absent.
const core::Node* podSpecOf(const core::Resource& r);
// The labels and annotations the pods get: a Pod's own, a Deployment's spec.template.metadata.
const core::Node* podLabelsOf(const core::Resource& r);
const core::Node* podAnnotationsOf(const core::Resource& r);

// spec.containers, then spec.initContainers when `withInit` (native sidecars live there).
std::vector<const core::Node*> containersOf(const core::Node* podSpec, bool withInit);

// Istio's resource.FullName form: "namespace/name", or "name" without a namespace.
std::string resourceFullName(const core::Resource& r);

// Istio's IsIstioControlPlane: label `istio` present, or `release: istio`.
bool isIstioControlPlane(const core::Resource& r);

// util.DeploymentInMesh: a Deployment whose pods have an istio-proxy container with an image,
// or ask for injection by label/annotation, or live in an `istio-injection=enabled` namespace.
bool deploymentInMesh(const Snapshot& snapshot, const core::Resource& deployment);

// "istio-sidecar-injector" for the default revision, "istio-sidecar-injector-<rev>" otherwise.
std::string injectorConfigMapName(std::string_view revision);

// The JSON value at an object path (mesh config lookups), or nullptr.
const nlohmann::json* jsonAt(const nlohmann::json& root,
                             std::initializer_list<std::string_view> path);

// A ConfigMap's data.values parsed as JSON (the injector's Helm values); nullopt when absent or
// invalid.
std::optional<nlohmann::json> injectorValues(const core::Resource& configMap);

}  // namespace mesh::analysis
