// meshctl validate -f FILE|DIR|- [-f ...] [-R] [-o json]: reads resources and checks them
// with Istio's validation rules. Like istioctl: "is valid" lines on success; on failure every
// problem with file:line:column and field path, exit 65.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/exit_codes.h"
#include "cli/validation_report.h"

namespace mesh::cli {
namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  bool recursive = false;
  std::string output;
};

nlohmann::json toJson(const core::Diagnostic& d) {
  return {{"severity", d.severity == core::Severity::Error ? "Error" : "Warning"},
          {"file", d.file},
          {"line", d.line},
          {"column", d.column},
          {"resource", d.resource},
          {"field", d.field},
          {"message", d.message}};
}

int runValidate(const ValidateOptions& opts) {
  CheckedInput in = loadAndCheck(opts.files, opts.recursive, true);

  if (opts.output == "json") {
    nlohmann::json out = {{"valid", in.errors == 0},
                          {"files", in.loaded.files},
                          {"resources", in.loaded.resources.size()},
                          {"diagnostics", nlohmann::json::array()}};
    for (const auto& d : in.diagnostics) out["diagnostics"].push_back(toJson(d));
    fmt::print("{}\n", out.dump(2));
    return in.errors ? kExitBadData : kExitOk;
  }
  printDiagnostics(in);
  if (in.errors) return kExitBadData;
  for (const auto& f : opts.files) {
    if (f == "-") fmt::print("validation succeed\n");
    else fmt::print("\"{}\" is valid\n", f);
  }
  return kExitOk;
}

}  // namespace

void addValidateCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("validate", "Validates Istio and Kubernetes config files against Istio's rules");
  auto opts = std::make_shared<ValidateOptions>();
  cmd->add_option("-f,--filename", opts->files, "File, directory or - for stdin; may repeat")
      ->required()
      ->allow_extra_args(false)
      ->type_name("PATH");
  cmd->add_flag("-R,--recursive", opts->recursive, "Read directories given with -f recursively");
  withChoices(cmd->add_option("-o,--output", opts->output, "Output format"), {"json"});
  cmd->callback([opts, &state] { state.exitCode = runValidate(*opts); });
}

}  // namespace mesh::cli
