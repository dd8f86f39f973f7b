// The build's version, shared by meshctl, meshd and meshproxy (set by CMake from the project
// version and the git revision).
#pragma once

#include <string_view>

namespace mesh {

inline constexpr std::string_view kVersion = MESH_VERSION;

// The git revision the build was configured at. Defined in version.cpp alone, so a new commit
// recompiles one file rather than every file that includes this header.
std::string_view gitRevision();

}  // namespace mesh
