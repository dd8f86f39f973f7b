// Builds meshctl's command tree. main() parses with it; the completion generator walks it, so
// shell completion always matches the real flags. Commands register here, one file each.
#pragma once

#include <memory>

#include <CLI/CLI.hpp>

namespace mesh::cli {

// Set by the command that ran; main() returns it.
struct RunState {
  int exitCode = 0;
};

std::unique_ptr<CLI::App> buildApp(RunState& state);

// Restricts an option to a set of values. CLI11 shows them in the type name as
// "TYPE:{a,b}", which is also where the completion generator reads them back.
CLI::Option* withChoices(CLI::Option* option, std::vector<std::string> choices);

// One function per command file.
void addAnalyzeCommand(CLI::App& app, RunState& state);
void addValidateCommand(CLI::App& app, RunState& state);
void addVersionCommand(CLI::App& app, RunState& state);
void addCompletionCommand(CLI::App& app, RunState& state);
void addProxyConfigCommand(CLI::App& app, RunState& state);
void addProxyStatusCommand(CLI::App& app, RunState& state);
void addAuthzCommand(CLI::App& app, RunState& state);
void addDescribeCommand(CLI::App& app, RunState& state);
void addManifestCommand(CLI::App& app, RunState& state);
void addProfileCommand(CLI::App& app, RunState& state);
void addCreateRemoteSecretCommand(CLI::App& app, RunState& state);
void addInstallCommand(CLI::App& app, RunState& state);
void addVerifyInstallCommand(CLI::App& app, RunState& state);
void addUninstallCommand(CLI::App& app, RunState& state);
void addApplyCommand(CLI::App& app, RunState& state);  // apply and delete
void addWaitCommand(CLI::App& app, RunState& state);

}  // namespace mesh::cli
