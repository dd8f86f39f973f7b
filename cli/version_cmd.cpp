// meshctl version [-o json|yaml|short]: istioctl's shapes, so scripts that read
// `istioctl version -o json` read ours.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "core/version.h"

namespace mesh::cli {
namespace {

nlohmann::json clientVersion() {
  return {{"version", std::string(kVersion)},
          {"revision", std::string(kGitRevision)},
          {"status", "Clean"},
          {"tag", std::string(kVersion)},
          {"compiler", fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)}};
}

}  // namespace

void addVersionCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("version", "Prints the version of meshctl");
  auto output = std::make_shared<std::string>();
  auto shortFlag = std::make_shared<bool>(false);
  withChoices(cmd->add_option("-o,--output", *output, "Output format"), {"json", "yaml", "short"});
  cmd->add_flag("-s,--short", *shortFlag, "Print only the version number");
  cmd->callback([output, shortFlag, &state] {
    nlohmann::json v = {{"clientVersion", clientVersion()}};
    if (*shortFlag || *output == "short") {
      fmt::print("{}\n", kVersion);
    } else if (*output == "json") {
      fmt::print("{}\n", v.dump(2));
    } else if (*output == "yaml") {
      const auto& c = v["clientVersion"];
      fmt::print("clientVersion:\n");
      for (const auto& [key, value] : c.items()) fmt::print("  {}: {}\n", key, nlohmann::json(value).dump());
    } else {
      fmt::print("client version: {}\n", kVersion);
    }
    state.exitCode = 0;
  });
}

}  // namespace mesh::cli
