// Every analyzer meshctl runs, in one explicit table (registry.cpp), sorted by name.
#pragma once

#include <memory>
#include <vector>

#include "analyzers/analyzer.h"

namespace mesh::analysis {

const std::vector<std::unique_ptr<Analyzer>>& allAnalyzers();

}  // namespace mesh::analysis
