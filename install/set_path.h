// `--set path=value` and `profile dump --config-path`: istioctl's paths into an IstioOperator
// spec. Elements are separated by dots (`\.` is a literal dot, as in annotation keys); a list
// item is selected by index, `ingressGateways[0]`, or by a field, `ingressGateways[name:x]`
// (also written `ingressGateways.[0]`). Values are typed by the IstioOperator schema where it
// knows the field (`tag=1.20` stays the string "1.20"); under free-form fields they are typed
// as istioctl does: integer, then number, then true/false, else a string. Pure; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mesh::install {

struct PathElement {
  enum class Kind { Key, Index, Select };
  Kind kind = Kind::Key;
  std::string key;    // Key: the field; Select: the item field compared
  size_t index = 0;   // Index
  std::string value;  // Select: the value it must have
};

using Path = std::vector<PathElement>;

Result<Path> parsePath(std::string_view text);
// "components.ingressGateways[0].enabled": the canonical spelling, for messages.
std::string formatPath(const Path& path);

struct SetFlag {
  std::string text;  // as given, for messages
  Path path;
  std::string value;
};

// "path=value" (split at the first '=').
Result<SetFlag> parseSetFlag(std::string_view flag);

// Writes the flag's value into `spec` (the IstioOperator's spec), creating maps on the way and
// appending a list item when the index is the list's length. Unknown fields, wrong types and
// missing list items are errors naming the path.
Result<void> applySetFlag(nlohmann::json& spec, const SetFlag& flag);

// The value at `path` in `spec`; NotFound when there is none.
Result<nlohmann::json> lookupPath(const nlohmann::json& spec, const Path& path);

}  // namespace mesh::install
