// Finding the meshd and meshproxy programs a local install runs, in this order: the flag
// (--meshd PATH), the environment variable (MESHCTL_MESHD), beside meshctl itself, the build
// tree's sibling (meshctl in build/cli finds build/controlplane/meshd), then PATH. A flag or
// variable that names no executable is an error rather than a reason to look further: the user
// asked for that file. Pure over the Environment and the file system; any thread.
#pragma once

#include <filesystem>
#include <string>

#include "core/result.h"
#include "local/environment.h"

namespace mesh::local {

struct BinarySpec {
  std::string name;          // meshd
  std::string flag;          // --meshd, for messages
  std::string flagValue;     // what the flag said; "" when not given
  std::string envVar;        // MESHCTL_MESHD
  std::string buildSibling;  // relative to meshctl's directory: ../controlplane/meshd
};

BinarySpec meshdSpec(std::string flagValue);
BinarySpec meshproxySpec(std::string flagValue);

// An absolute path to an executable file, or Unavailable naming every place looked in.
Result<std::filesystem::path> findBinary(const BinarySpec& spec, const Environment& env);

}  // namespace mesh::local
