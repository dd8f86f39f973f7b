// Test-only helpers for the workload analyzers' unit tests: build a Snapshot from YAML and run
// one analyzer the way `meshctl analyze --analyzer NAME -A` does (duplicates collapsed), giving
// "CODE Kind namespace/name" lines, sorted.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/mesh_config.h"
#include "analyzers/runner.h"
#include "analyzers/snapshot.h"
#include "core/loader.h"

namespace mesh::analysis::workload_testing {

inline std::unique_ptr<Snapshot> snapshotOf(
    std::string_view yaml, nlohmann::json meshConfig = defaultMeshConfig(),
    nlohmann::json meshNetworks = nlohmann::json::object()) {
  core::LoadOptions options;
  options.defaultNamespace = "";
  core::LoadResult lr = core::loadBuffer("test.yaml", yaml, options);
  return std::make_unique<Snapshot>(std::move(lr.resources), std::move(meshConfig),
                                    std::move(meshNetworks));
}

inline std::vector<std::string> linesOf(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const Message& m : messages) out.push_back(std::string(m.type->code) + " " + m.origin);
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> run(std::string_view analyzer, const Snapshot& snapshot) {
  RunOptions options;
  options.analyzers = {std::string(analyzer)};
  return linesOf(runAnalyzers(snapshot, options).messages);
}

inline std::vector<std::string> run(std::string_view analyzer, std::string_view yaml,
                                    nlohmann::json meshConfig = defaultMeshConfig()) {
  return run(analyzer, *snapshotOf(yaml, std::move(meshConfig)));
}

// The message texts of one analyzer's run, for checks on arguments.
inline std::vector<std::string> texts(std::string_view analyzer, std::string_view yaml,
                                      nlohmann::json meshConfig = defaultMeshConfig()) {
  auto snapshot = snapshotOf(yaml, std::move(meshConfig));
  RunOptions options;
  options.analyzers = {std::string(analyzer)};
  std::vector<std::string> out;
  for (const Message& m : runAnalyzers(*snapshot, options).messages) out.push_back(m.text());
  return out;
}

}  // namespace mesh::analysis::workload_testing
