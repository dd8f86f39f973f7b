#include "cli/validation_report.h"

#include <fmt/format.h>

#include "core/validation/validate.h"

namespace mesh::cli {

CheckedInput loadAndCheck(const std::vector<std::string>& files, bool recursive, bool validate) {
  CheckedInput in;
  core::LoadOptions load;
  load.recursive = recursive;
  in.loaded = core::loadPaths(files, load);
  in.diagnostics = std::move(in.loaded.diagnostics);
  in.loaded.diagnostics.clear();
  if (validate) {
    core::Diagnostics found = core::validateAll(in.loaded.resources);
    in.diagnostics.insert(in.diagnostics.end(), found.begin(), found.end());
  }
  for (const auto& d : in.diagnostics) in.errors += d.severity == core::Severity::Error;
  return in;
}

void printDiagnostics(const CheckedInput& input) {
  for (const auto& d : input.diagnostics)
    if (d.severity == core::Severity::Warning) fmt::print(stderr, "Warning: {}\n", d.format());
  if (input.errors == 0) return;
  fmt::print(stderr, "Error: {} error{} occurred:\n", input.errors, input.errors == 1 ? "" : "s");
  for (const auto& d : input.diagnostics)
    if (d.severity == core::Severity::Error) fmt::print(stderr, "\t* {}\n", d.format());
}

}  // namespace mesh::cli
