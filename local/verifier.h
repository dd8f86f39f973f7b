// verify-install for the local mesh: a list of checks in the manner of `linkerd check`, each
// passed (✔), failed (✘, with hints saying what to do) or skipped. The mesh home and its state
// file come first; then each component recorded in state.yaml: its process (pid file and
// /proc), its readiness URL, and for meshd /version, the debug gRPC API and the config meshd
// left out as invalid. A component whose process is not running gets no further checks.
// Read-only: it takes no lock and changes nothing. Blocking; one thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "local/mesh_home.h"

namespace mesh::local {

enum class CheckStatus { Passed, Failed, Skipped };

struct CheckResult {
  std::string category;  // "mesh home", "meshd", "istio-ingressgateway"
  std::string title;     // "meshd is running (pid 1234)"
  CheckStatus status = CheckStatus::Passed;
  std::vector<std::string> hints;  // under a failure (or a passed check with warnings)
};

class CheckObserver {
 public:
  virtual ~CheckObserver() = default;
  virtual void report(const CheckResult& result) = 0;
};

// True when no check failed.
bool verifyLocal(const MeshHome& home, CheckObserver& observer, std::chrono::milliseconds probeTimeout);

}  // namespace mesh::local
