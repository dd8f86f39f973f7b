// The build's version, shared by meshctl, meshd and meshproxy (set by CMake from the project
// version and the git revision).
#pragma once

#include <string_view>

namespace mesh {

inline constexpr std::string_view kVersion = MESH_VERSION;
inline constexpr std::string_view kGitRevision = MESH_GIT_SHA;

}  // namespace mesh
