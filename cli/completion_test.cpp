#include "cli/completion.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "cli/app.h"

namespace {

std::string readCommitted(const std::string& name) {
  std::ifstream in(std::string(MESH_SOURCE_DIR) + "/completions/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("committed completion scripts match the command tree") {
  mesh::cli::RunState state;
  auto app = mesh::cli::buildApp(state);
  // On a mismatch: `meshctl completion bash > completions/meshctl.bash` (and zsh, fish).
  CHECK(mesh::cli::bashCompletion(*app) == readCommitted("meshctl.bash"));
  CHECK(mesh::cli::zshCompletion(*app) == readCommitted("_meshctl"));
  CHECK(mesh::cli::fishCompletion(*app) == readCommitted("meshctl.fish"));
}

TEST_CASE("bash completion offers every command and an option's choices") {
  mesh::cli::RunState state;
  auto app = mesh::cli::buildApp(state);
  std::string bash = mesh::cli::bashCompletion(*app);
  CHECK(bash.find("\"meshctl validate\")") != std::string::npos);
  CHECK(bash.find("compgen -W \"bash zsh fish\"") != std::string::npos);
  CHECK(bash.find("-f|--filename) COMPREPLY=($(compgen -f") != std::string::npos);
}
