// annotations.AlphaAnalyzer (Istio maturity.AlphaAnalyzer): reports annotations of alpha-phase
// features. istioctl implements it but does not register it (too noisy with annotations set
// by default), so neither does meshctl: it is reachable only through this factory.
#pragma once

#include <memory>

#include "analyzers/analyzer.h"

namespace mesh::analysis {

std::unique_ptr<Analyzer> makeAnnotationsAlphaAnalyzer();

}  // namespace mesh::analysis
