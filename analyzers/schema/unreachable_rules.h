// VirtualService rules that can never match (IST0130) and matches that repeat an earlier one
// (IST0131), as Istio's schema analyzer reports them for http, tcp and tls routes.
#pragma once

#include "analyzers/analyzer.h"

namespace mesh::analysis {

void reportUnreachableRules(const core::Resource& vs, Reporter& reporter);

}  // namespace mesh::analysis
