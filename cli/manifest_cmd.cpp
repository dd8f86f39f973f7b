// meshctl manifest generate [-f FILE]... [--set path=value]... [-o DIR]: istioctl's offline
// render of an install. Prints every Kubernetes object as one YAML stream (byte-identical for
// the same input), or writes DIR/<Component>/<Component>.yaml atomically. No cluster needed.
#include <fmt/format.h>

#include <algorithm>

#include "cli/app.h"
#include "cli/exit_codes.h"
#include "install/manifest.h"
#include "install/operator_config.h"

namespace mesh::cli {
namespace {

struct GenerateOptions {
  std::vector<std::string> files;
  std::vector<std::string> sets;
  std::string outputDir;
  std::string manifests;
  std::string profile;
  std::string revision;
  std::vector<std::string> components;
};

int runGenerate(const GenerateOptions& opts) {
  auto iop = install::buildOperator(
      install::InstallFlags{opts.manifests, opts.files, opts.sets, opts.profile, opts.revision});
  if (!iop) return reportError(iop.error());
  auto manifests = install::renderManifests(*iop);
  if (!manifests) return reportError(manifests.error());

  if (!opts.components.empty()) {
    std::vector<install::ComponentManifest> picked;
    for (const auto& name : opts.components) {
      auto it = std::find_if(manifests->begin(), manifests->end(), [&](const auto& m) { return m.component == name; });
      if (it == manifests->end())
        return reportError({ErrorCode::Usage, fmt::format("--component {}: this install does not enable it", name),
                            "see which components a profile enables with `meshctl profile dump`"});
      picked.push_back(*it);
    }
    *manifests = std::move(picked);
  }

  if (opts.outputDir.empty()) {
    fmt::print("{}", install::manifestText(*manifests));
    return kExitOk;
  }
  auto written = install::writeManifestDir(opts.outputDir, *manifests);
  if (!written) return reportError(written.error());
  for (const auto& path : *written) fmt::print("Wrote {}\n", path);
  return kExitOk;
}

}  // namespace

void addManifestCommand(CLI::App& app, RunState& state) {
  auto* manifest = app.add_subcommand("manifest", "Commands related to mesh install manifests");
  manifest->require_subcommand(1);
  auto* cmd =
      manifest->add_subcommand("generate", "Generates an install manifest (offline; prints YAML or writes -o DIR)");
  auto opts = std::make_shared<GenerateOptions>();
  cmd->add_option("-f,--filename", opts->files, "IstioOperator overlay, merged over the profile in order (repeatable)")
      ->type_name("PATH")
      ->allow_extra_args(false);
  cmd->add_option("-s,--set", opts->sets,
                  "Override a value: path=value, e.g. values.global.hub=registry/mesh (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", opts->outputDir, "Write DIR/<Component>/<Component>.yaml instead of printing")
      ->type_name("PATH");
  cmd->add_option("-p,--profile", opts->profile, "Profile to install (same as --set profile=NAME)");
  cmd->add_option("-r,--revision", opts->revision, "Control plane revision (same as --set revision=REV)");
  withChoices(
      cmd->add_option("--component", opts->components, "Only this component (repeatable)")->allow_extra_args(false),
      {"Base", "Pilot", "IngressGateways", "EgressGateways"});
  cmd->add_option("-d,--manifests", opts->manifests, "Directory of profiles to use instead of the built-in ones")
      ->type_name("PATH");
  cmd->callback([opts, &state] { state.exitCode = runGenerate(*opts); });
}

}  // namespace mesh::cli
