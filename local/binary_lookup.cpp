#include "local/binary_lookup.h"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <system_error>
#include <vector>

namespace mesh::local {
namespace fs = std::filesystem;
namespace {

bool isExecutableFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

fs::path absoluteNormal(const fs::path& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  return (ec ? path : abs).lexically_normal();
}

}  // namespace

BinarySpec meshdSpec(std::string flagValue) {
  return {"meshd", "--meshd", std::move(flagValue), "MESHCTL_MESHD", "../controlplane/meshd"};
}

BinarySpec meshproxySpec(std::string flagValue) {
  return {"meshproxy", "--meshproxy", std::move(flagValue), "MESHCTL_MESHPROXY", "../proxy/meshproxy"};
}

Result<fs::path> findBinary(const BinarySpec& spec, const Environment& env) {
  auto explicitPath = [&](const std::string& value, const std::string& origin) -> Result<fs::path> {
    fs::path path = absoluteNormal(value);
    if (isExecutableFile(path)) return path;
    return fail(ErrorCode::Unavailable, fmt::format("{} {}: not an executable file", origin, value),
                fmt::format("point {} at the {} program", origin, spec.name));
  };
  if (!spec.flagValue.empty()) return explicitPath(spec.flagValue, spec.flag);
  if (auto value = env.get(spec.envVar); value && !value->empty())
    return explicitPath(*value, fmt::format("{}=", spec.envVar));

  std::vector<std::string> looked;
  auto tryPath = [&](const fs::path& candidate) {
    fs::path path = absoluteNormal(candidate);
    looked.push_back(path.string());
    return isExecutableFile(path) ? path : fs::path();
  };
  if (!env.selfExe.empty()) {
    fs::path dir = env.selfExe.parent_path();
    if (auto p = tryPath(dir / spec.name); !p.empty()) return p;
    if (auto p = tryPath(dir / spec.buildSibling); !p.empty()) return p;
  }
  std::string pathVar = env.get("PATH").value_or("");
  size_t start = 0;
  while (!pathVar.empty() && start <= pathVar.size()) {
    size_t colon = pathVar.find(':', start);
    std::string dir = pathVar.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    // An empty PATH entry means the current directory, as execvp reads it.
    if (auto p = tryPath(fs::path(dir.empty() ? "." : dir) / spec.name); !p.empty()) return p;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return fail(ErrorCode::Unavailable,
              fmt::format("cannot find {}: not given with {} or {}, and not in {}", spec.name, spec.flag, spec.envVar,
                          fmt::join(looked, ", ")),
              fmt::format("build it (ninja -C build {}) or pass {} PATH", spec.name, spec.flag));
}

}  // namespace mesh::local
