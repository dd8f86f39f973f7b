// One finding of an analyzer: its type (code, level, template), the arguments for the
// template, the resource it is about and, where known, the file:line it points at.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "analyzers/message_types.h"
#include "core/resource.h"

namespace mesh::analysis {

// Template arguments as Go's fmt sees them: %s/%v print strings and lists ([a b]),
// %q quotes, %d prints integers.
using Arg = std::variant<std::string, int64_t, std::vector<std::string>>;

struct Message {
  const MessageType* type = nullptr;
  std::vector<Arg> args;
  std::string origin;     // "VirtualService default/reviews"; "" when no resource
  std::string file;       // reference file, "" when unknown
  uint32_t line = 0;      // reference line, 0 when unknown
  std::string namespace_; // of the origin, for namespace filtering
  const core::Resource* resource = nullptr;  // the origin, valid while the Snapshot lives

  std::string text() const;       // the formatted template
  std::string reference() const;  // "file:line", "file" or ""
};

// Go fmt semantics for the verbs Istio's templates use.
std::string formatGo(std::string_view format, const std::vector<Arg>& args);

}  // namespace mesh::analysis
