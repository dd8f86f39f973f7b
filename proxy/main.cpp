// meshproxy: the data plane. This issue gives it its flags and identity; the xDS client and
// the proxy come with their issues.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/version.h"

int main(int argc, char** argv) {
  CLI::App app("meshproxy is the mesh's sidecar and gateway proxy, configured over xDS.", "meshproxy");
  app.set_version_flag("--version", std::string(mesh::kVersion));
  CLI11_PARSE(app, argc, argv);
  fmt::print(stderr, "meshproxy {}: no proxy is built into this version yet\n", mesh::kVersion);
  return 69;
}
