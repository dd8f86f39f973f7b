// Install profiles: the copies of install-profiles/*.yaml embedded in meshctl at build time,
// or a directory given with --manifests (as istioctl's flag). A profile is named by its file
// name without .yaml; a value with a slash or a .yaml ending is read as a file instead.
// Immutable once built; any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mesh::install {

struct ProfileFile {
  std::string path;  // for messages: install-profiles/demo.yaml, or the file read
  std::string text;
};

class ProfileSource {
 public:
  static ProfileSource embedded();
  // Every *.yaml in `dir` (not recursive).
  static Result<ProfileSource> directory(const std::string& dir);
  // --manifests: the directory when given, else the embedded profiles.
  static Result<ProfileSource> fromFlag(const std::string& manifestsDir);

  std::vector<std::string> names() const;  // sorted
  Result<ProfileFile> find(std::string_view nameOrPath) const;

 private:
  std::map<std::string, ProfileFile, std::less<>> profiles_;
};

// True when `value` names a file rather than a profile.
bool isProfilePath(std::string_view value);

}  // namespace mesh::install
