// Asks meshd's debug gRPC API (meshd.debug.v1.MeshDebug) for its version: the proof that the
// debug port is meshd's API answering, not just a socket accepting. gRPC stays inside the .cpp.
// Blocking; any thread.
#pragma once

#include <chrono>
#include <string>

#include "core/result.h"

namespace mesh::local {

struct DebugVersion {
  std::string version;
  std::string instance;
};

// address is HOST:PORT; Unavailable with gRPC's message when the call fails.
Result<DebugVersion> debugApiVersion(const std::string& address, std::chrono::milliseconds timeout);

}  // namespace mesh::local
