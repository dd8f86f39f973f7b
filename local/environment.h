// Environment: what the local mesh reads from the process it runs in — environment variables,
// the user's home directory and meshctl's own path — gathered once so the code that decides
// (cluster detection, the mesh home, binary lookup) can be tested with made-up values.
// Immutable once built; any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mesh::local {

struct Environment {
  std::map<std::string, std::string, std::less<>> vars;
  std::filesystem::path homeDir;  // $HOME, else the passwd entry's; "" when neither is known
  std::filesystem::path selfExe;  // the running meshctl (/proc/self/exe); "" when unknown

  // The variable's value; nullopt when unset. An empty value is returned as "".
  std::optional<std::string> get(std::string_view name) const;
  // This process's environment.
  static Environment current();
};

}  // namespace mesh::local
