// Conversions between the node tree and the outside world: JSON values (nlohmann) both
// ways, and YAML text through yaml-cpp's emitter. Scalars keep their meaning: a quoted "8080"
// stays a string, a plain 8080 becomes a number.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/yaml/node.h"

namespace mesh::core {

nlohmann::json toJson(const Node& node);
std::string toYaml(const Node& node);

// Builds nodes in `arena` from a JSON value; marks are zero (no source position).
const Node* fromJson(Arena& arena, const nlohmann::json& value);

// Structural equality of two trees by meaning (not by style or position).
bool sameValue(const Node& a, const Node& b);

}  // namespace mesh::core
