// The routing analyzers: virtualservice, destinationrule, serviceentry, sidecar.
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

std::unique_ptr<Analyzer> makeVirtualServiceDestinationRuleAnalyzer();

void addRoutingAnalyzers(AnalyzerList& out) { out.push_back(makeVirtualServiceDestinationRuleAnalyzer()); }

}  // namespace mesh::analysis
