// meshd: the control plane. This issue gives it its flags and identity; the xDS server,
// debug API and CA come with their issues.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/version.h"

int main(int argc, char** argv) {
  CLI::App app("meshd serves mesh config to proxies over Envoy's xDS API.", "meshd");
  app.set_version_flag("--version", std::string(mesh::kVersion));
  CLI11_PARSE(app, argc, argv);
  fmt::print(stderr, "meshd {}: no xDS server is built into this version yet\n", mesh::kVersion);
  return 69;
}
