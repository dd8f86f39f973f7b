#include "cli/app.h"

#include <fmt/format.h>

#include "core/version.h"

namespace mesh::cli {

CLI::Option* withChoices(CLI::Option* option, std::vector<std::string> choices) {
  option->check(CLI::IsMember(std::move(choices)));
  return option;
}

std::unique_ptr<CLI::App> buildApp(RunState& state) {
  auto app = std::make_unique<CLI::App>(
      "meshctl controls a service mesh: install it, check its config, and see what its proxies do.", "meshctl");
  app->require_subcommand(1);
  app->set_version_flag("--version", std::string(kVersion));
  app->fallthrough();
  addInstallCommand(*app, state);
  addVerifyInstallCommand(*app, state);
  addUninstallCommand(*app, state);
  addApplyCommand(*app, state);
  addAnalyzeCommand(*app, state);
  addProxyConfigCommand(*app, state);
  addProxyStatusCommand(*app, state);
  addAuthzCommand(*app, state);
  addDescribeCommand(*app, state);
  addWaitCommand(*app, state);
  addManifestCommand(*app, state);
  addProfileCommand(*app, state);
  addCreateRemoteSecretCommand(*app, state);
  addValidateCommand(*app, state);
  addVersionCommand(*app, state);
  addCompletionCommand(*app, state);
  return app;
}

}  // namespace mesh::cli
