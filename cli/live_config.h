// The live config `meshctl analyze` reads besides files (istioctl's --use-kube): a Kubernetes
// cluster when one is configured (kubeconfig, --context, in-cluster), else the local mesh's
// store when one is installed, else nothing. Main thread.
#pragma once

#include <string>
#include <vector>

#include "core/resource.h"
#include "core/result.h"

namespace mesh::cli {

struct LiveConfigOptions {
  bool local = false;      // --local: the local mesh even when a cluster is configured
  std::string kubeconfig;  // --kubeconfig
  std::string context;     // --context
};

struct LiveConfig {
  std::string source;  // "cluster https://…", "local mesh /home/u/.meshctl", or "" when none
  std::vector<core::Resource> resources;
};

Result<LiveConfig> loadLiveConfig(const LiveConfigOptions& options);

}  // namespace mesh::cli
