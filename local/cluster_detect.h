// Is a Kubernetes cluster configured? meshctl's install, verify-install, uninstall, apply and
// delete act on the local mesh when --local is given or when no cluster is: no kubeconfig
// (KUBECONFIG unset or naming only missing or empty files, no ~/.kube/config) and not running
// inside a pod (KUBERNETES_SERVICE_HOST unset). Pure over the Environment; any thread.
#pragma once

#include <string>

#include "local/environment.h"

namespace mesh::local {

struct ClusterConfig {
  bool found = false;
  // What was found, for messages: "KUBECONFIG=/a/config", "/home/u/.kube/config",
  // "in-cluster config (KUBERNETES_SERVICE_HOST=10.96.0.1)". "" when nothing was.
  std::string where;
};

ClusterConfig detectCluster(const Environment& env);

}  // namespace mesh::local
