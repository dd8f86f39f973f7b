// `meshctl uninstall` from a Kubernetes cluster: finds what meshctl installed by its label
// app.kubernetes.io/managed-by=meshctl, in every kind install renders, shows it, asks unless -y,
// and deletes it in reverse install order (gateways, meshd, Istio core) with propagation
// Background. CRDs and the namespace stay unless --purge: deleting a CRD deletes every object
// of its kind, the users' config. Nothing left is not an error. Main thread.
#pragma once

#include "cli/cluster_target.h"

namespace mesh::cli {

struct ClusterUninstallOptions {
  ClusterFlags cluster;
  bool yes = false;
  bool purge = false;
};

int runClusterUninstall(const ClusterUninstallOptions& options);

}  // namespace mesh::cli
