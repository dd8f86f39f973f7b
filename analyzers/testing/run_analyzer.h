// Test-only: run one registered analyzer over YAML text the way `meshctl analyze -A` would
// (no default namespace, Istio's default ingress objects), and read back what it reported.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/mesh_config.h"
#include "analyzers/registry.h"
#include "core/loader.h"

namespace mesh::analysis::testing {

struct Found {
  std::string code;
  std::string origin;
  std::string text;
  auto operator<=>(const Found&) const = default;
};

// Every message the analyzer reported, sorted (repeats kept).
inline std::vector<Found> runAnalyzer(std::string_view name, std::string_view yaml,
                                      const nlohmann::json& meshPatch = nlohmann::json::object()) {
  core::LoadOptions options;
  options.defaultNamespace = "";
  core::LoadResult loaded = core::loadBuffer("test.yaml", yaml, options);
  nlohmann::json mesh = defaultMeshConfig();
  mesh.merge_patch(meshPatch);
  for (auto& r : defaultIngressResources(mesh)) loaded.resources.push_back(std::move(r));
  Snapshot snapshot(std::move(loaded.resources), mesh, nlohmann::json::object());
  Reporter reporter;
  for (const auto& a : allAnalyzers())
    if (a->info().name == name) a->analyze(snapshot, reporter);
  std::vector<Found> out;
  for (const Message& m : reporter.messages()) out.push_back({std::string(m.type->code), m.origin, m.text()});
  std::sort(out.begin(), out.end());
  return out;
}

// "CODE origin" per message, in the order given.
inline std::vector<std::string> codesAndOrigins(const std::vector<Found>& found) {
  std::vector<std::string> out;
  for (const Found& f : found) out.push_back(f.code + " " + f.origin);
  return out;
}

}  // namespace mesh::analysis::testing
