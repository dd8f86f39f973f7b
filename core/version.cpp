#include "core/version.h"

#ifndef MESH_GIT_SHA
#error "MESH_GIT_SHA must be set for this file (core/CMakeLists.txt)"
#endif

namespace mesh {

std::string_view gitRevision() { return MESH_GIT_SHA; }

}  // namespace mesh
