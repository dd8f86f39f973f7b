#include "local/environment.h"

#include <pwd.h>
#include <unistd.h>

#include <system_error>

extern char** environ;

namespace mesh::local {

std::optional<std::string> Environment::get(std::string_view name) const {
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
}

Environment Environment::current() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  if (auto home = env.get("HOME"); home && !home->empty()) {
    env.homeDir = *home;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) {
    env.homeDir = pw->pw_dir;
  }
  std::error_code ec;
  env.selfExe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) env.selfExe.clear();
  return env;
}

}  // namespace mesh::local
