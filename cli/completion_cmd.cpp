// meshctl completion bash|zsh|fish: prints the script for that shell, generated from the
// command tree (see completion.h).
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/completion.h"

namespace mesh::cli {

void addCompletionCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("completion", "Prints a shell completion script (bash, zsh or fish)");
  cmd->footer(
      "\nLoad it in the current shell:\n"
      "  bash: source <(meshctl completion bash)\n"
      "  zsh:  source <(meshctl completion zsh)\n"
      "  fish: meshctl completion fish | source");
  auto shell = std::make_shared<std::string>();
  withChoices(cmd->add_option("shell", *shell, "The shell to complete for")->required(), {"bash", "zsh", "fish"});
  cmd->callback([&app, shell, &state] {
    if (*shell == "bash") fmt::print("{}", bashCompletion(app));
    else if (*shell == "zsh") fmt::print("{}", zshCompletion(app));
    else fmt::print("{}", fishCompletion(app));
    state.exitCode = 0;
  });
}

}  // namespace mesh::cli
