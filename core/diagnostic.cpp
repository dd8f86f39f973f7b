#include "core/diagnostic.h"

#include <fmt/format.h>

namespace mesh::core {

std::string Diagnostic::format() const {
  std::string out;
  if (!file.empty()) {
    out = file;
    if (line > 0) out += fmt::format(":{}:{}", line, column);
    out += ": ";
  }
  if (!resource.empty()) out += resource + ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

}  // namespace mesh::core
