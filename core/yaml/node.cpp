#include "core/yaml/node.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace mesh::core {
namespace {

bool oneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  for (auto o : options)
    if (s == o) return true;
  return false;
}

bool isDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c < '0' + base);
    if (!ok) return false;
  }
  return true;
}

std::optional<int64_t> parseInt(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16;
  else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) base = 8;
  else if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) base = 2;
  if (base != 10) s.remove_prefix(2);
  if (!isDigits(s, base)) return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - magnitude);
  }
  if (magnitude > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

bool looksLikeFloat(std::string_view s) {
  if (oneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                ".nan", ".NaN", ".NAN"}))
    return true;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

}  // namespace

const MapEntry* Node::find(std::string_view key) const {
  for (const auto& e : entries())
    if (e.key->isScalar() && e.key->text() == key) return &e;
  return nullptr;
}

const Node* Node::get(std::string_view key) const {
  const MapEntry* e = find(key);
  return e ? e->value : nullptr;
}

ScalarKind Node::scalarKind() const {
  if (type_ == NodeType::Null) return ScalarKind::Null;
  if (type_ != NodeType::Scalar || style_ != ScalarStyle::Plain) return ScalarKind::String;
  return resolvePlain(text());
}

ScalarKind resolvePlain(std::string_view s) {
  if (oneOf(s, {"", "~", "null", "Null", "NULL"})) return ScalarKind::Null;
  // YAML 1.1 booleans, as Kubernetes' decoder (go-yaml v2) resolves them.
  if (oneOf(s, {"true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
                "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N"}))
    return ScalarKind::Bool;
  if (parseInt(s)) return ScalarKind::Int;
  if (looksLikeFloat(s)) return ScalarKind::Float;
  return ScalarKind::String;
}

std::optional<bool> Node::asBool() const {
  if (scalarKind() != ScalarKind::Bool) return std::nullopt;
  char c = text()[0];
  if (c == 't' || c == 'T' || c == 'y' || c == 'Y') return true;
  if (c == 'o' || c == 'O') return text().size() == 2;  // on / off
  return false;
}

std::optional<int64_t> Node::asInt() const {
  if (scalarKind() != ScalarKind::Int) return std::nullopt;
  return parseInt(text());
}

std::optional<double> Node::asDouble() const {
  ScalarKind k = scalarKind();
  if (k == ScalarKind::Int) return static_cast<double>(*parseInt(text()));
  if (k != ScalarKind::Float) return std::nullopt;
  std::string s(text());
  if (s.find("inf") != std::string::npos || s.find("Inf") != std::string::npos ||
      s.find("INF") != std::string::npos)
    return s[0] == '-' ? -INFINITY : INFINITY;
  if (s.find('.') == 0 && (s == ".nan" || s == ".NaN" || s == ".NAN")) return NAN;
  return std::strtod(s.c_str(), nullptr);
}

std::optional<std::string_view> Node::asString() const {
  if (type_ != NodeType::Scalar) return std::nullopt;
  return text();
}

std::string_view Node::typeName() const {
  switch (type_) {
    case NodeType::Null: return "null";
    case NodeType::Sequence: return "list";
    case NodeType::Mapping: return "map";
    case NodeType::Scalar: break;
  }
  switch (scalarKind()) {
    case ScalarKind::Null: return "null";
    case ScalarKind::Bool: return "boolean";
    case ScalarKind::Int: return "integer";
    case ScalarKind::Float: return "number";
    case ScalarKind::String: return "string";
  }
  return "string";
}

const Node* NodeFactory::scalar(Arena& a, std::string_view text, ScalarStyle style, Mark m) {
  Node* n = a.make<Node>();
  n->type_ = style == ScalarStyle::Plain && oneOf(text, {"", "~", "null", "Null", "NULL"})
                ? NodeType::Null
                : NodeType::Scalar;
  n->style_ = style;
  n->line_ = m.line;
  n->column_ = m.column;
  std::string_view copy = a.copy(text);
  n->text_ = copy.data();
  n->size_ = static_cast<uint32_t>(copy.size());
  return n;
}

const Node* NodeFactory::sequence(Arena& a, std::span<const Node* const> items, Mark m) {
  Node* n = a.make<Node>();
  n->type_ = NodeType::Sequence;
  n->line_ = m.line;
  n->column_ = m.column;
  auto* array = a.array<const Node*>(items.size());
  if (!items.empty()) std::memcpy(array, items.data(), items.size() * sizeof(const Node*));
  n->items_ = array;
  n->size_ = static_cast<uint32_t>(items.size());
  return n;
}

const Node* NodeFactory::mapping(Arena& a, std::span<const MapEntry> entries, Mark m) {
  Node* n = a.make<Node>();
  n->type_ = NodeType::Mapping;
  n->line_ = m.line;
  n->column_ = m.column;
  auto* array = a.array<MapEntry>(entries.size());
  if (!entries.empty()) std::memcpy(array, entries.data(), entries.size() * sizeof(MapEntry));
  n->entries_ = array;
  n->size_ = static_cast<uint32_t>(entries.size());
  return n;
}

}  // namespace mesh::core
