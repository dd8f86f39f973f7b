#include "core/validation/fields.h"

#include <algorithm>

#include <cctype>

#include <fmt/format.h>

namespace mesh::core::validation {
namespace {

// Whether `key` is the snake_case spelling of `camel` (mirror_percent for mirrorPercent),
// compared in place: this runs for every absent field, so it must not allocate.
bool isSnakeOf(std::string_view key, std::string_view camel) {
  size_t k = 0;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (k + 1 >= key.size() || key[k] != '_' || key[k + 1] != std::tolower(static_cast<unsigned char>(c))) return false;
      k += 2;
    } else {
      if (k >= key.size() || key[k] != c) return false;
      ++k;
    }
  }
  return k == key.size();
}

}  // namespace

const Node* field(const Node* m, std::string_view name) {
  if (!m || !m->isMapping()) return nullptr;
  const Node* v = m->get(name);
  if (!v && std::any_of(name.begin(), name.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }))
    for (const auto& e : m->entries())
      if (e.key->isScalar() && isSnakeOf(e.key->text(), name)) {
        v = e.value;
        break;
      }
  return v && !v->isNull() ? v : nullptr;
}

std::string_view text(const Node* m, std::string_view name) {
  const Node* v = field(m, name);
  return v && v->isScalar() ? v->text() : std::string_view();
}

std::span<const Node* const> items(const Node* m, std::string_view name) {
  const Node* v = field(m, name);
  return v ? v->items() : std::span<const Node* const>();
}

std::span<const MapEntry> entries(const Node* m, std::string_view name) {
  const Node* v = field(m, name);
  return v ? v->entries() : std::span<const MapEntry>();
}

bool isSet(const Node* m, std::string_view name) {
  const Node* v = field(m, name);
  if (!v) return false;
  if (v->isSequence() || v->isMapping()) return v->size() > 0;
  return true;
}

std::optional<std::string_view> stringOf(const Node* n) {
  if (!n || !n->isScalar() || n->scalarKind() != ScalarKind::String) return std::nullopt;
  return n->text();
}

// Paths are built for every field checked, error or not: plain appends, no format parsing.
std::string sub(std::string_view path, std::string_view name) {
  std::string out;
  out.reserve(path.size() + name.size() + 1);
  out.append(path);
  if (!path.empty()) out += '.';
  out.append(name);
  return out;
}

std::string at(std::string_view path, size_t index) {
  std::string out;
  out.reserve(path.size() + 8);
  out.append(path);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::string keyed(std::string_view path, std::string_view key) {
  std::string out;
  out.reserve(path.size() + key.size() + 2);
  out.append(path);
  out += '[';
  out.append(key);
  out += ']';
  return out;
}

std::string oneOfList(std::span<const std::string_view> values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
    out += values[i];
  }
  return out;
}

}  // namespace mesh::core::validation
