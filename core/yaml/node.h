// The compact YAML/JSON tree every resource is read into. Nodes live in an Arena owned by a
// Tree (one per file); every node keeps its 1-based line and column. Read-only once built,
// so any thread may read it. Scalars keep their text and style; typing follows the rules
// Kubernetes' YAML decoder applies (YAML 1.1 booleans, JSON-compatible numbers).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/yaml/arena.h"

namespace mesh::core {

enum class NodeType : uint8_t { Null, Scalar, Sequence, Mapping };
enum class ScalarStyle : uint8_t { Plain, SingleQuoted, DoubleQuoted, Literal, Folded };
// What a scalar means once resolved: a quoted "true" is a String, a plain true a Bool.
enum class ScalarKind : uint8_t { Null, Bool, Int, Float, String };

struct Mark {
  uint32_t line = 0;
  uint32_t column = 0;
};

class Node;
struct MapEntry {
  const Node* key;
  const Node* value;
};

class Node {
 public:
  NodeType type() const { return type_; }
  bool isNull() const { return type_ == NodeType::Null; }
  bool isScalar() const { return type_ == NodeType::Scalar; }
  bool isSequence() const { return type_ == NodeType::Sequence; }
  bool isMapping() const { return type_ == NodeType::Mapping; }
  Mark mark() const { return {line_, column_}; }
  ScalarStyle style() const { return style_; }

  // Scalar text exactly as written (after YAML unescaping); empty for non-scalars.
  std::string_view text() const {
    return type_ == NodeType::Scalar || type_ == NodeType::Null ? std::string_view(text_, size_) : std::string_view();
  }
  size_t size() const { return isSequence() || isMapping() ? size_ : 0; }

  std::span<const Node* const> items() const {
    return type_ == NodeType::Sequence ? std::span<const Node* const>(items_, size_) : std::span<const Node* const>();
  }
  std::span<const MapEntry> entries() const {
    return type_ == NodeType::Mapping ? std::span<const MapEntry>(entries_, size_) : std::span<const MapEntry>();
  }
  // Value under a scalar key of a mapping, or nullptr.
  const Node* get(std::string_view key) const;
  const MapEntry* find(std::string_view key) const;

  ScalarKind scalarKind() const;
  // Typed reads; nullopt when the node is not a scalar of that kind.
  std::optional<bool> asBool() const;
  std::optional<int64_t> asInt() const;
  std::optional<double> asDouble() const;  // ints are doubles too
  // The text of a string-like scalar (any scalar), or nullopt for null/collections.
  std::optional<std::string_view> asString() const;

  // Name of the type for error messages: "string", "integer", "boolean", "number", "null", "list", "map".
  std::string_view typeName() const;

 private:
  friend struct NodeFactory;
  NodeType type_ = NodeType::Null;
  ScalarStyle style_ = ScalarStyle::Plain;
  uint32_t line_ = 0;
  uint32_t column_ = 0;
  uint32_t size_ = 0;
  union {
    const char* text_ = nullptr;
    const Node* const* items_;
    const MapEntry* entries_;
  };
};

// What `text` would mean as a plain (unquoted) scalar.
ScalarKind resolvePlain(std::string_view text);

// The only way to make nodes: the parser and the JSON converter both build through it.
struct NodeFactory {
  // A plain scalar that resolves to null ("", ~, null) becomes a Null node keeping its text.
  static const Node* scalar(Arena& a, std::string_view text, ScalarStyle style, Mark m);
  static const Node* sequence(Arena& a, std::span<const Node* const> items, Mark m);
  static const Node* mapping(Arena& a, std::span<const MapEntry> entries, Mark m);
};

// One parsed file: its name, the arena that owns its nodes, and its documents' roots.
class Tree {
 public:
  explicit Tree(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  Arena& arena() { return arena_; }
  size_t bytesReserved() const { return arena_.bytesReserved(); }

 private:
  std::string path_;
  Arena arena_;
};

using TreePtr = std::shared_ptr<const Tree>;

}  // namespace mesh::core
