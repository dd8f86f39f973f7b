// Small readers the semantic validators use over the YAML tree: a field's node, its text or
// items, and the field paths users see (spec.http[1].route[0].weight). Every reader tolerates a
// missing or wrongly typed node (the schema check reports those), so validators never crash on
// bad input. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/yaml/node.h"

namespace mesh::core::validation {

// Value of `name` in map `m`; nullptr when `m` is not a map or the field is absent or null.
// The snake_case spelling is found too (mirror_percent for mirrorPercent), since Istio's
// protobuf JSON decoding accepts both.
const Node* field(const Node* m, std::string_view name);
// Scalar text of a field, "" when absent or not a scalar.
std::string_view text(const Node* m, std::string_view name);
// Items of a list field, empty when absent or not a list.
std::span<const Node* const> items(const Node* m, std::string_view name);
// Entries of a map field, empty when absent or not a map.
std::span<const MapEntry> entries(const Node* m, std::string_view name);
// Present, not null, and (for lists and maps) not empty.
bool isSet(const Node* m, std::string_view name);

inline bool isMap(const Node* n) { return n && n->isMapping(); }
// Integer value of a node; nullopt when absent or not an integer.
inline std::optional<int64_t> intOf(const Node* n) { return n ? n->asInt() : std::nullopt; }
inline std::optional<double> numberOf(const Node* n) { return n ? n->asDouble() : std::nullopt; }
// Text of a string scalar; nullopt for other scalars and collections.
std::optional<std::string_view> stringOf(const Node* n);

// Field paths.
std::string sub(std::string_view path, std::string_view name);  // spec + hosts → spec.hosts
std::string at(std::string_view path, size_t index);            // spec.hosts + 1 → spec.hosts[1]
std::string keyed(std::string_view path, std::string_view key); // ...labels + app → ...labels[app]

// "a, b or c" for messages that list what is allowed.
std::string oneOfList(std::span<const std::string_view> values);

}  // namespace mesh::core::validation
