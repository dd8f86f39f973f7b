// YAML (and JSON, which libyaml reads as YAML flow style) → compact Trees, via libyaml's
// event API. Enforces the input limits documented in the README so hostile input costs
// bounded memory and time. Pure function of its input; safe to call from many threads.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.h"
#include "core/yaml/node.h"

namespace mesh::core {

struct ParseLimits {
  size_t maxFileBytes = 128u << 20;      // one file
  size_t maxScalarBytes = 4u << 20;      // one scalar (Kubernetes objects stay under 1.5 MiB)
  uint32_t maxDepth = 256;               // nesting of maps and lists
  size_t maxNodesPerDocument = 2000000;  // counted with aliases expanded (billion laughs)
};

struct ParsedFile {
  std::shared_ptr<Tree> tree;
  std::vector<const Node*> documents;  // non-empty documents in order
  std::optional<Diagnostic> error;     // set when the file could not be read to its end
};

ParsedFile parseYaml(std::string path, std::string_view content, const ParseLimits& limits = {});

}  // namespace mesh::core
