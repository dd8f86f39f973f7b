#include "core/validation/fields.h"

#include <cctype>

#include <fmt/format.h>

namespace mesh::core::validation {
namespace {

std::string snakeCase(std::string_view camel) {
  std::string out;
  out.reserve(camel.size() + 4);
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

const Node* field(const Node* m, std::string_view name) {
  if (!m || !m->isMapping()) return nullptr;
  const Node* v = m->get(name);
  if (!v) {
    bool camel = false;
    for (char c : name) camel = camel || std::isupper(static_cast<unsigned char>(c));
    if (camel) v = m->get(snakeCase(name));
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

std::string sub(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  return fmt::format("{}.{}", path, name);
}

std::string at(std::string_view path, size_t index) { return fmt::format("{}[{}]", path, index); }

std::string keyed(std::string_view path, std::string_view key) { return fmt::format("{}[{}]", path, key); }

std::string oneOfList(std::span<const std::string_view> values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
    out += values[i];
  }
  return out;
}

}  // namespace mesh::core::validation
