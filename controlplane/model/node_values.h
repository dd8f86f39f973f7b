// Small readers over config trees for the control plane: a field's text, a sequence's items,
// a port number, a label map. Missing or mistyped values read as empty, because validation has
// already reported them; the generators only need the well-formed parts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/model/service.h"
#include "core/yaml/node.h"

namespace mesh::model {

// The text of a scalar under `key` of a mapping; "" when absent or not a scalar.
inline std::string_view text(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n && n->isScalar() ? n->text() : std::string_view();
}

// The items of a sequence node; empty for anything else.
inline std::span<const core::Node* const> items(const core::Node* seq) {
  return seq ? seq->items() : std::span<const core::Node* const>();
}

// An integer in 1..2^32-1 under `key`; nullopt otherwise.
inline std::optional<uint32_t> uint32At(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  auto v = n ? n->asInt() : std::nullopt;
  if (!v || *v <= 0 || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

inline std::optional<double> numberAt(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n ? n->asDouble() : std::nullopt;
}

inline std::optional<bool> boolAt(const core::Node* map, std::string_view key) {
  const core::Node* n = map ? map->get(key) : nullptr;
  return n ? n->asBool() : std::nullopt;
}

// A mapping of scalars as Labels.
inline Labels labelsFrom(const core::Node* map) {
  Labels out;
  if (!map) return out;
  for (const auto& e : map->entries())
    if (e.value && e.value->isScalar()) out.insert_or_assign(std::string(e.key->text()), std::string(e.value->text()));
  return out;
}

// A sequence of scalars as strings.
inline std::vector<std::string> stringList(const core::Node* seq) {
  std::vector<std::string> out;
  for (const core::Node* n : items(seq))
    if (n->isScalar()) out.emplace_back(n->text());
  return out;
}

}  // namespace mesh::model
