#include "analyzers/registry.h"

#include <algorithm>

#include "analyzers/registry_entries.h"

namespace mesh::analysis {

const std::vector<std::unique_ptr<Analyzer>>& allAnalyzers() {
  static const AnalyzerList analyzers = [] {
    AnalyzerList v;
    addRoutingAnalyzers(v);
    addGatewayAndSecurityAnalyzers(v);
    addWorkloadAnalyzers(v);
    addSchemaAnalyzers(v);
    // Go byte order of names, as `istioctl analyze -L` lists them.
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a->info().name < b->info().name; });
    return v;
  }();
  return analyzers;
}

}  // namespace mesh::analysis
