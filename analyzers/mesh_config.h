// Mesh config for analysis: Istio's defaults merged with a user's MeshConfig document
// (--meshConfigFile), and the MeshNetworks document (--meshNetworksFile). Also the default
// ingress gateway objects istioctl adds when reading files only.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "core/loader.h"

namespace mesh::analysis {

nlohmann::json defaultMeshConfig();
// Reads a MeshConfig YAML file and merges it over the defaults (JSON merge patch).
Result<nlohmann::json> loadMeshConfig(const std::string& path);
Result<nlohmann::json> loadMeshNetworks(const std::string& path);

// The Pod and Service istioctl assumes for the ingress gateway in files-only mode, unless the
// mesh config's ingressControllerMode is OFF.
std::vector<core::Resource> defaultIngressResources(const nlohmann::json& meshConfig);

}  // namespace mesh::analysis
