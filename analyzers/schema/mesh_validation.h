// Istio's validation of the mesh config and mesh networks (ValidateMeshConfig,
// ValidateMeshNetworks), for schema.ValidationAnalyzer.MeshConfig/MeshNetworks. Each problem is
// one message text; an empty result means valid.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mesh::analysis {

std::vector<std::string> validateMeshConfig(const nlohmann::json& meshConfig);
std::vector<std::string> validateMeshNetworks(const nlohmann::json& meshNetworks);

}  // namespace mesh::analysis
