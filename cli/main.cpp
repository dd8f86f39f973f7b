// meshctl's entry point: parse flags, run the chosen command, return its exit code.
#include <fmt/format.h>

#include "cli/app.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  mesh::cli::RunState state;
  auto app = mesh::cli::buildApp(state);
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "Error: {}\n", e.what());
    fmt::print(stderr, "hint: run '{} --help' for usage\n", app->get_name());
    return mesh::cli::kExitUsage;
  }
  return state.exitCode;
}
