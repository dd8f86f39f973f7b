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

// The mesh config and mesh networks as objects of the snapshot (kinds::MeshConfig
// istio-system/meshconfig, kinds::MeshNetworks istio-system/meshnetworks), so analyzers can
// report against them as istioctl does. Their spec is the JSON given.
std::vector<core::Resource> meshResources(const nlohmann::json& meshConfig, const nlohmann::json& meshNetworks);

// The Pod and Service istioctl assumes for the ingress gateway in files-only mode, unless the
// mesh config's ingressControllerMode is OFF.
std::vector<core::Resource> defaultIngressResources(const nlohmann::json& meshConfig);

}  // namespace mesh::analysis
