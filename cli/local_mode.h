// Which mesh install, verify-install, uninstall, apply and delete act on: the local mesh when
// --local is given or no Kubernetes cluster is configured (local/cluster_detect.h). With a
// cluster configured and no --local, apply and delete stop and say so, naming the kubeconfig
// found; install, verify-install and uninstall act on the cluster instead (cli/cluster_target.h
// decides, with clusterSelected()). Main thread.
#pragma once

#include <string_view>

#include "core/result.h"
#include "local/cluster_detect.h"
#include "local/environment.h"
#include "local/mesh_home.h"

namespace mesh::cli {

struct LocalTarget {
  local::Environment env;
  local::MeshHome home;
};

// The local mesh to act on, or Unavailable (exit 69) when a cluster is configured and --local
// was not given.
Result<LocalTarget> localTarget(bool localFlag, std::string_view command);

// The error for `command` when a cluster is configured and --local was not given.
Error clusterNotSupported(std::string_view command, const local::ClusterConfig& cluster);

// verify-install's check list for the local mesh, printed; its exit code (verify_install_cmd.cpp,
// also run by `install --verify`).
int printLocalVerification(const local::MeshHome& home);

}  // namespace mesh::cli
