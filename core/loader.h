// Reads resources from files, directories (optionally recursive) and stdin ("-"). Files are
// parsed in parallel, results come back in a stable order (arguments in order, directory
// entries sorted). Problems become Diagnostics; a bad file never stops the others.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"
#include "core/result.h"
#include "core/resource.h"
#include "core/yaml/parser.h"

namespace mesh::core {

struct LoadOptions {
  bool recursive = false;
  unsigned threads = 0;  // 0: one per core
  std::string defaultNamespace = "default";
  ParseLimits limits;
};

struct LoadResult {
  std::vector<Resource> resources;
  Diagnostics diagnostics;
  size_t files = 0;
};

// Expands directories into the YAML/JSON files under them (.yaml, .yml, .json).
Result<std::vector<std::string>> expandPaths(const std::vector<std::string>& paths, bool recursive);

LoadResult loadPaths(const std::vector<std::string>& paths, const LoadOptions& options);
// One in-memory buffer named `name` (for stdin, tests and the file backend).
LoadResult loadBuffer(std::string name, std::string_view content, const LoadOptions& options);

}  // namespace mesh::core
