// `manifest generate`: the merged IstioOperator rendered into Kubernetes objects, grouped by
// component (Base, Pilot, IngressGateways, EgressGateways) and ordered so `kubectl apply`
// never meets a reference before its target: CRDs, Namespaces, ServiceAccounts, RBAC,
// ConfigMaps, Deployments, Services, PodDisruptionBudgets, autoscalers, component by
// component. Same input, same bytes. Rendering is pure; writeManifestDir touches the disk.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "install/install_plan.h"

namespace mesh::install {

struct ComponentManifest {
  std::string component;  // "Base", "Pilot", "IngressGateways", "EgressGateways"
  std::vector<Object> objects;
};

// Components with nothing to install are left out.
Result<std::vector<ComponentManifest>> renderManifests(const nlohmann::json& iop);

// Every object of every component as one YAML stream.
std::string manifestText(const std::vector<ComponentManifest>& components);
std::string componentText(const ComponentManifest& component);

// DIR/<Component>/<Component>.yaml for each component. Every file is written to a temporary
// name first and renamed into place only once all of them were written, so a failure leaves
// the previous files as they were. A file of a component no longer rendered is removed.
// Returns the paths written.
Result<std::vector<std::string>> writeManifestDir(const std::string& dir,
                                                  const std::vector<ComponentManifest>& components);

}  // namespace mesh::install
