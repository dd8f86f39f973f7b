// A finding about user input, pinned to file:line:column and a field path such as
// spec.http[1].route[0].weight. Produced by the loader and the validators; printed by the CLI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesh::core {

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string file;      // "" when the input had no file (e.g. built in memory)
  uint32_t line = 0;     // 1-based, 0 when unknown
  uint32_t column = 0;   // 1-based, 0 when unknown
  std::string resource;  // "Kind name.namespace" (Resource::displayName) or "" for file-level problems
  std::string field;     // dotted path, "" when the whole document is meant
  std::string message;
  // Set when Istio reports this finding under its own analysis code (IST0130 unreachable
  // rule, IST0131 ineffective match): `meshctl analyze` then uses that code and these
  // template arguments instead of the generic schema warning.
  std::string analysisCode;
  std::vector<std::string> analysisArgs;

  // "file:line:column: Kind ns/name: field: message", omitting what is unknown.
  std::string format() const;
};

using Diagnostics = std::vector<Diagnostic>;

inline bool hasErrors(const Diagnostics& ds) {
  for (const auto& d : ds)
    if (d.severity == Severity::Error) return true;
  return false;
}

}  // namespace mesh::core
