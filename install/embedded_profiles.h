// The install-profiles/*.yaml files, compiled into the binary by install/embed_files.cmake so
// meshctl finds its profiles from any directory. Sorted by name.
#pragma once

#include <span>
#include <string_view>

namespace mesh::install {

struct EmbeddedFile {
  std::string_view name;  // "demo.yaml"
  std::string_view text;
};

std::span<const EmbeddedFile> embeddedProfiles();

}  // namespace mesh::install
