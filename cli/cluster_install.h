// `meshctl install` into a Kubernetes cluster (the non --local path): shows the plan (cluster,
// context, components with their object counts), asks unless -y, then component by component
// in install order (Istio core, meshd, gateways) server-side applies every object as field
// manager "meshctl" (taking over other managers' fields only with --force), waits for the
// CRDs to be Established after Istio core and for Deployments to be ready after each workload
// component, and prints a ✔/✘ line per component in istioctl's words. A failure stops there
// and names the components done; running it again picks up (apply is idempotent), and a run
// that changes nothing says "no changes". Main thread.
#pragma once

#include <chrono>

#include "cli/cluster_target.h"

namespace mesh::cli {

struct ClusterInstallOptions {
  ClusterFlags cluster;
  ManifestFlags manifest;
  bool yes = false;
  bool dryRun = false;
  bool verify = false;
  bool force = false;
  std::chrono::milliseconds readinessTimeout{std::chrono::minutes(5)};
};

int runClusterInstall(const ClusterInstallOptions& options);

}  // namespace mesh::cli
