// Test support for the routing analyzers: run one registered analyzer over YAML text the
// way `meshctl analyze -A` would (no default namespace, Istio's default ingress objects).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/testing/run_analyzer.h"

namespace mesh::analysis::testing {

// The shared runner is analyzers/testing/run_analyzer.h; routing tests use it as is.
}  // namespace mesh::analysis::testing
