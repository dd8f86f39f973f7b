// Runs a selection of analyzers over a Snapshot: skips those whose inputs the source cannot
// provide, applies suppressions, drops duplicates and sorts, as istioctl does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analyzers/analyzer.h"

namespace mesh::analysis {

// "-S CODE=Kind name.namespace" or the galley.istio.io/analyze-suppress annotation.
struct Suppression {
  std::string code;      // "IST0102" or "*"
  std::string resource;  // "Kind name.namespace" / "Kind name", may end in "*"
};

struct RunOptions {
  std::vector<std::string> analyzers;  // names; empty: all
  std::vector<Suppression> suppressions;
  // Kinds the source can provide. Empty: every kind (files are read in full).
  std::vector<KindRef> available;
};

struct RunResult {
  std::vector<Message> messages;
  std::vector<std::pair<std::string, double>> ran;  // name, milliseconds
  std::vector<std::string> skipped;  // "name: reason"
};

RunResult runAnalyzers(const Snapshot& snapshot, const RunOptions& options);

// Parses one -S value; nullopt when malformed.
std::optional<Suppression> parseSuppression(std::string_view text);

}  // namespace mesh::analysis
