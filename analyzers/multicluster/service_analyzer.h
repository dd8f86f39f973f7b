// services.MultiClusterServiceAnalyzer (Istio multicluster.ServiceAnalyzer), IST0170: a Service
// (same namespace/name) defined differently in several clusters of one mesh. The comparison
// needs one snapshot per cluster; the registered analyzer sees a single snapshot and a Service
// that carries no cluster (files-only mode, as in istioctl), so it reports nothing there. A
// multi-cluster source calls analyzeMultiClusterServices with its per-cluster snapshots.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "analyzers/analyzer.h"

namespace mesh::analysis {

struct ClusterSnapshot {
  std::string cluster;  // cluster ID, as istioctl names it
  const Snapshot* snapshot = nullptr;
};

void analyzeMultiClusterServices(std::span<const ClusterSnapshot> clusters, Reporter& reporter);

std::unique_ptr<Analyzer> makeMultiClusterServiceAnalyzer();

}  // namespace mesh::analysis
