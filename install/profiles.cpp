#include "install/profiles.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "install/embedded_profiles.h"

namespace mesh::install {
namespace {

namespace fs = std::filesystem;

Result<std::string> readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::Io, fmt::format("{}: cannot open the file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::Io, fmt::format("{}: read error", path));
  return ss.str();
}

}  // namespace

bool isProfilePath(std::string_view value) {
  return value.find('/') != std::string_view::npos || value.ends_with(".yaml") || value.ends_with(".yml");
}

ProfileSource ProfileSource::embedded() {
  ProfileSource s;
  for (const auto& f : embeddedProfiles()) {
    std::string name(f.name);
    s.profiles_.emplace(name.substr(0, name.size() - 5), ProfileFile{"install-profiles/" + name, std::string(f.text)});
  }
  return s;
}

Result<ProfileSource> ProfileSource::directory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::NotFound, fmt::format("--manifests {}: not a directory", dir),
                "give the directory that holds the profile files (default.yaml, demo.yaml, ...)");
  ProfileSource s;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string file = entry.path().filename().string();
    if (!entry.is_regular_file() || !file.ends_with(".yaml")) continue;
    auto text = readText(entry.path().string());
    if (!text) return Failure(text.error());
    s.profiles_.emplace(file.substr(0, file.size() - 5), ProfileFile{entry.path().string(), std::move(*text)});
  }
  if (ec) return fail(ErrorCode::Io, fmt::format("--manifests {}: {}", dir, ec.message()));
  if (!s.profiles_.contains("default"))
    return fail(ErrorCode::NotFound, fmt::format("--manifests {}: no default.yaml", dir),
                "every profile is merged over default.yaml, so the directory needs one");
  return s;
}

Result<ProfileSource> ProfileSource::fromFlag(const std::string& manifestsDir) {
  if (manifestsDir.empty()) return embedded();
  return directory(manifestsDir);
}

std::vector<std::string> ProfileSource::names() const {
  std::vector<std::string> out;
  for (const auto& [name, file] : profiles_) out.push_back(name);
  return out;
}

Result<ProfileFile> ProfileSource::find(std::string_view nameOrPath) const {
  if (isProfilePath(nameOrPath)) {
    auto text = readText(std::string(nameOrPath));
    if (!text) return Failure(text.error());
    return ProfileFile{std::string(nameOrPath), std::move(*text)};
  }
  auto it = profiles_.find(nameOrPath);
  if (it == profiles_.end())
    return fail(ErrorCode::NotFound, fmt::format("unknown profile \"{}\"", nameOrPath),
                fmt::format("the profiles are {}; `meshctl profile list` shows them", fmt::join(names(), ", ")));
  return it->second;
}

}  // namespace mesh::install
