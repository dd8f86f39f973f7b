// Workload analyzers: injection, annotations, deployment, service, deprecation, envoyfilter,
// meshnetworks, multicluster, telemetry.
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

void addWorkloadAnalyzers(AnalyzerList& out) { (void)out; }

}  // namespace mesh::analysis
