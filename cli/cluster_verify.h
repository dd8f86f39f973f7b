// `meshctl verify-install` against a Kubernetes cluster: every object of the manifest (rendered
// from -p/--set as install renders it, or read from saved manifests with -f) exists, CRDs are
// Established and Deployments ready; a ✔/✘ list per component with hints under each failure.
// Exit 0 when all pass, 69 otherwise. Main thread.
#pragma once

#include <string>
#include <vector>

#include "cli/cluster_target.h"

namespace mesh::cli {

struct ClusterVerifyOptions {
  ClusterFlags cluster;
  ManifestFlags manifest;
  std::vector<std::string> manifestFiles;  // -f: manifests (YAML streams) instead of rendering
};

int runClusterVerify(const ClusterVerifyOptions& options);

// The check list for `components` on `client`, printed; the exit code (also `install --verify`).
int printClusterVerification(backends::kube::KubeClient& client,
                             const std::vector<install::ComponentManifest>& components);

}  // namespace mesh::cli
